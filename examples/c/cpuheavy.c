// cpuheavy: a pure CPU benchmark with almost no WASI calls, used to measure
// the run-time cost of Asyncify instrumentation (instrumented vs plain).
// Two kernels: an n-body-like floating point loop and an integer hash loop.
//
// Usage: cpuheavy [scale]   (default 45; roughly 1 s uninstrumented under Node)
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define NBODIES 5

typedef struct { double x, y, z, vx, vy, vz, m; } body;

// Advance a small gravitational system by `steps` time steps.
static double nbody(int steps) {
  body b[NBODIES];
  for (int i = 0; i < NBODIES; i++)
    b[i] = (body){i * 1.5, i * -0.7, i * 0.3, 0.01 * i, -0.02 * i, 0.005, 1.0 + i * 0.1};

  const double dt = 0.001;
  for (int s = 0; s < steps; s++) {
    for (int i = 0; i < NBODIES; i++)
      for (int j = i + 1; j < NBODIES; j++) {
        double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
        double d2 = dx * dx + dy * dy + dz * dz + 0.01;  // softened
        double mag = dt / (d2 * sqrt(d2));
        b[i].vx -= dx * b[j].m * mag; b[i].vy -= dy * b[j].m * mag; b[i].vz -= dz * b[j].m * mag;
        b[j].vx += dx * b[i].m * mag; b[j].vy += dy * b[i].m * mag; b[j].vz += dz * b[i].m * mag;
      }
    for (int i = 0; i < NBODIES; i++) {
      b[i].x += dt * b[i].vx; b[i].y += dt * b[i].vy; b[i].z += dt * b[i].vz;
    }
  }

  // Total energy as the result.
  double e = 0;
  for (int i = 0; i < NBODIES; i++) {
    e += 0.5 * b[i].m * (b[i].vx * b[i].vx + b[i].vy * b[i].vy + b[i].vz * b[i].vz);
    for (int j = i + 1; j < NBODIES; j++) {
      double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
      e -= b[i].m * b[j].m / sqrt(dx * dx + dy * dy + dz * dz + 0.01);
    }
  }
  return e;
}

// FNV-1a-style hashing over a table that is rewritten as we go.
static uint32_t hashloop(int rounds) {
  static uint32_t table[4096];
  for (int i = 0; i < 4096; i++) table[i] = (uint32_t)i * 2654435761u;
  uint32_t h = 2166136261u;
  for (int r = 0; r < rounds; r++)
    for (int i = 0; i < 4096; i++) {
      h = (h ^ table[i]) * 16777619u;
      table[i] = h ^ (h >> 15);
    }
  return h;
}

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 45;
  printf("cpuheavy: scale %d\n", scale);
  fflush(stdout);

  double e = nbody(scale * 100000);
  printf("nbody energy=%.9f\n", e);
  fflush(stdout);

  uint32_t h = hashloop(scale * 1000);
  printf("hash=%08x\n", h);
  fflush(stdout);
  return 0;
}
