/* runlet serve: the queue daemon. */
#ifndef RUNLET_SERVE_H
#define RUNLET_SERVE_H

/* `runlet serve [--config F] [--backend B] [--once] [--max-jobs N]
 * [--log-level L]`; returns the exit code. */
int serve_main(int argc, char **argv);

#endif
