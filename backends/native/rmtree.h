/* Removing a directory tree that untrusted code wrote, by fd only: openat
 * with O_NOFOLLOW, unlinkat, AT_REMOVEDIR; a symlink is removed, never
 * followed, so a planted link cannot make runlet delete outside the tree.
 */
#ifndef RUNLET_SBX_RMTREE_H
#define RUNLET_SBX_RMTREE_H

/* Remove everything inside the directory dirfd (kept open, not closed).
 * 0 or the first -errno met (it goes on past errors). */
int sbx_rmtree_contents(int dirfd);

/* Remove dirfd/name and everything below it. */
int sbx_rmtree_at(int dirfd, const char *name);

#endif
