/* The table of backends built into runlet, by name. */
#ifndef RUNLET_BACKENDS_H
#define RUNLET_BACKENDS_H

#include "backends/backend.h"

/* Static ops for "native" / "docker", or NULL. */
const struct backend_ops *backends_find(const char *name);
/* "native, docker" */
const char *backends_names(void);

#endif /* RUNLET_BACKENDS_H */
