/* The gated cells' step arithmetic in C, for float (names ending _f) and double (_d): see _kernels_impl.h. */
#ifndef NEUROSIM_KERNELS_H
#define NEUROSIM_KERNELS_H

#include <stddef.h>
#include <string.h>

#define NEUROSIM_CAT_(a, b) a##_##b
#define NEUROSIM_CAT(a, b) NEUROSIM_CAT_(a, b)

#define REAL float
#define SFX f
#include "_kernels_impl.h"
#undef REAL
#undef SFX

#define REAL double
#define SFX d
#include "_kernels_impl.h"
#undef REAL
#undef SFX

#endif
