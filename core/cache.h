/* The compile cache: compiled artifacts keyed by a hash of everything that
 * decides them (plugin, compiler identity, compile command and env, source),
 * bounded on disk with LRU eviction.
 *
 * Only the trusted side reads and writes it: an artifact is sent back by the
 * runner right after a successful compile (before any submission code ran)
 * and handed to later sandboxes inside the plan, as a file of their own copy.
 * No sandbox ever sees the cache directory. Entries are written to a
 * temporary name and renamed, so a reader never sees half an entry; every
 * access is relative to the directory's fd and never follows a symlink.
 * Thread-safe.
 */
#ifndef RUNLET_CACHE_H
#define RUNLET_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "runner/wire.h"

struct cache;

#define CACHE_KEY_HEX 65 /* sha256 in hex + NUL */

/* Open (creating it 0700 when missing) the cache directory. It must be a
 * real directory owned by runlet's user and not writable by others.
 * max_bytes: size bound on disk. *out owned by the caller. */
int cache_open(const char *dir, uint64_t max_bytes, struct cache **out,
	       char *err, size_t errlen);
void cache_close(struct cache *c);

/* The key of a plan's compile step. ident: extra identity of the toolchain
 * (the backend name and image, the plugin name and version). 0 or -errno. */
int cache_key(const struct wire_plan *plan, const char *const *ident,
	      size_t nident, char hex[CACHE_KEY_HEX]);

/* An entry is a successful compile outcome (runner/wire.h) with its
 * artifacts: the compiler's raw stdout/stderr and the files it made. */

/* 1 on a hit (*o filled, free with wire_outcome_free), 0 on a miss, -errno
 * on a damaged entry (which is removed). */
int cache_get(struct cache *c, const char *hex, struct wire_outcome *o);
/* Store a compile outcome (it must carry artifacts), then evict least
 * recently used entries beyond the bound. 0 or -errno (the cache is an
 * optimisation: callers log and go on). */
int cache_put(struct cache *c, const char *hex, const struct wire_outcome *o);

/* Bytes currently accounted on disk. */
uint64_t cache_size(struct cache *c);

#endif /* RUNLET_CACHE_H */
