/* The table of backends built into runlet. */
#include "core/backends.h"

#include <string.h>

static const struct backend_ops *const backend_table[] = {
	&native_backend_ops,
	&docker_backend_ops,
};

const struct backend_ops *backends_find(const char *name)
{
	for (size_t i = 0; i < sizeof(backend_table) / sizeof(backend_table[0]);
	     i++)
		if (strcmp(backend_table[i]->name, name) == 0)
			return backend_table[i];
	return NULL;
}

const char *backends_names(void)
{
	return "native, docker";
}
