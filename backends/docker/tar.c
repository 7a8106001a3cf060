/* backends/docker: in-memory tar writing with libarchive. */
#include "backends/docker/tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

struct dock_tar {
	struct archive *a;
	struct wire_buf buf;
	int failed;
};

static la_ssize_t on_write(struct archive *a, void *arg, const void *p,
			   size_t n)
{
	struct dock_tar *t = arg;
	if (wire_buf_append(&t->buf, p, n) < 0) {
		archive_set_error(a, ENOMEM, "out of memory");
		return -1;
	}
	return (la_ssize_t)n;
}

int dock_tar_new(struct dock_tar **out)
{
	struct dock_tar *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->a = archive_write_new();
	if (!t->a || archive_write_set_format_pax_restricted(t->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(t->a, 1) != ARCHIVE_OK ||
	    archive_write_open(t->a, t, NULL, on_write, NULL) != ARCHIVE_OK) {
		dock_tar_free(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

static int add(struct dock_tar *t, const char *path, mode_t type,
	       uint32_t mode, int64_t uid, int64_t gid, const void *data,
	       size_t len)
{
	struct archive_entry *e = archive_entry_new();
	int rc = 0;
	if (!e)
		return -ENOMEM;
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, mode & 07777);
	archive_entry_set_uid(e, uid);
	archive_entry_set_gid(e, gid);
	archive_entry_set_mtime(e, time(NULL), 0);
	archive_entry_set_size(e, type == AE_IFREG ? (la_int64_t)len : 0);
	if (archive_write_header(t->a, e) != ARCHIVE_OK)
		rc = -EIO;
	else if (type == AE_IFREG && len > 0 &&
		 archive_write_data(t->a, data, len) != (la_ssize_t)len)
		rc = -EIO;
	archive_entry_free(e);
	if (rc < 0)
		t->failed = 1;
	return rc;
}

int dock_tar_add_file(struct dock_tar *t, const char *path, uint32_t mode,
		      int64_t uid, int64_t gid, const void *data, size_t len)
{
	return add(t, path, AE_IFREG, mode, uid, gid, data, len);
}

int dock_tar_add_dir(struct dock_tar *t, const char *path, uint32_t mode,
		     int64_t uid, int64_t gid)
{
	return add(t, path, AE_IFDIR, mode, uid, gid, NULL, 0);
}

int dock_tar_finish(struct dock_tar *t, struct wire_buf *out)
{
	int rc = 0;
	if (archive_write_close(t->a) != ARCHIVE_OK || t->failed)
		rc = -EIO;
	if (rc == 0) {
		*out = t->buf;
		t->buf.data = NULL;
		t->buf.len = t->buf.cap = 0;
	}
	dock_tar_free(t);
	return rc;
}

void dock_tar_free(struct dock_tar *t)
{
	if (!t)
		return;
	if (t->a)
		archive_write_free(t->a);
	wire_buf_free(&t->buf);
	free(t);
}
