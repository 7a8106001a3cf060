/* runlet images: build the runner images through the Docker Engine API. */
#ifndef RUNLET_IMAGES_H
#define RUNLET_IMAGES_H

/* `runlet images build [--config F] [CODE...]`; returns the exit code. */
int images_main(int argc, char **argv);

#endif
