/* runlet doctor: which isolation features this host provides. */
#ifndef RUNLET_DOCTOR_H
#define RUNLET_DOCTOR_H

/* `runlet doctor [--config F]`: prints one line per feature; exit code 0 when
 * everything the native sandbox requires is there, 1 otherwise. */
int doctor_main(int argc, char **argv);

#endif
