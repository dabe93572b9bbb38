// Hardware check of the NVIDIA atoms of tilec-layout (not part of `cargo test`; needs a GPU
// of compute capability >= 8.0 and nvcc). Run `run.sh` from this directory.
//
// * mma.sync m16n8k16 (f16), m16n8k8 (tf32), m16n8k32 (s8): every lane fills its A and B
//   registers from the tiles through the layouts' (lane, slot) -> element tables, runs the
//   instruction, and scatters D through the C table; D must equal the product computed on the
//   host. (A wrong M/N mapping breaks D; a K permutation common to A and B would cancel, which
//   the ldmatrix check below excludes for f16 since ldmatrix.x4 / .x2.trans deliver exactly
//   the A / B fragments.)
// * ldmatrix x1/x2/x4 with and without .trans: a tile whose element i holds the value i is
//   loaded; slot s of lane l must hold the element the layout says.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cuda_fp16.h>
#include "tables.h"

__device__ uint32_t pack_h2(float lo, float hi) {
  __half2 h = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<uint32_t*>(&h);
}

__global__ void mma_f16(const float* A, const float* B, float* D) {
  int l = threadIdx.x;
  uint32_t a[4], b[2];
  for (int r = 0; r < 4; r++) a[r] = pack_h2(A[MMA_F16_A[l * 8 + 2 * r]], A[MMA_F16_A[l * 8 + 2 * r + 1]]);
  for (int r = 0; r < 2; r++) b[r] = pack_h2(B[MMA_F16_B[l * 4 + 2 * r]], B[MMA_F16_B[l * 4 + 2 * r + 1]]);
  float c[4] = {0, 0, 0, 0};
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
               : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  for (int i = 0; i < 4; i++) D[MMA_F16_C[l * 4 + i]] = c[i];
}

__global__ void mma_tf32(const float* A, const float* B, float* D) {
  int l = threadIdx.x;
  uint32_t a[4], b[2];
  for (int r = 0; r < 4; r++) a[r] = __float_as_uint(A[MMA_TF32_A[l * 4 + r]]);
  for (int r = 0; r < 2; r++) b[r] = __float_as_uint(B[MMA_TF32_B[l * 2 + r]]);
  float c[4] = {0, 0, 0, 0};
  asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
               : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  for (int i = 0; i < 4; i++) D[MMA_TF32_C[l * 4 + i]] = c[i];
}

__device__ uint32_t pack_s8(const int8_t* M, const int* table, int base) {
  uint32_t v = 0;
  for (int k = 0; k < 4; k++) v |= uint32_t(uint8_t(M[table[base + k]])) << (8 * k);
  return v;
}

__global__ void mma_s8(const int8_t* A, const int8_t* B, int* D) {
  int l = threadIdx.x;
  uint32_t a[4], b[2];
  for (int r = 0; r < 4; r++) a[r] = pack_s8(A, MMA_S8_A, l * 16 + 4 * r);
  for (int r = 0; r < 2; r++) b[r] = pack_s8(B, MMA_S8_B, l * 8 + 4 * r);
  int c[4] = {0, 0, 0, 0};
  asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
               : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  for (int i = 0; i < 4; i++) D[MMA_S8_C[l * 4 + i]] = c[i];
}

// Tile of (count == 1 ? 8 : 16) x (count == 4 ? 16 : 8) b16 elements, element i = i.
// Matrix j sits at block (j % 2, j / 2); lane l gives row l % 8 of matrix (l / 8) % count.
template <int COUNT, bool TRANS>
__global__ void ldm(uint32_t* out) {
  constexpr int ROWS = COUNT == 1 ? 8 : 16, COLS = COUNT == 4 ? 16 : 8;
  __shared__ __align__(16) uint16_t S[ROWS * COLS];
  int l = threadIdx.x;
  for (int i = l; i < ROWS * COLS; i += 32) S[i] = uint16_t(i);
  __syncthreads();
  int j = (l / 8) % COUNT;
  int row = (j % 2) * 8 + l % 8, col = (j / 2) * 8;
  uint32_t addr = uint32_t(__cvta_generic_to_shared(&S[row * COLS + col]));
  uint32_t r[4] = {0, 0, 0, 0};
  if (COUNT == 1 && !TRANS) asm volatile("ldmatrix.sync.aligned.m8n8.x1.shared.b16 {%0}, [%1];" : "=r"(r[0]) : "r"(addr));
  if (COUNT == 1 && TRANS) asm volatile("ldmatrix.sync.aligned.m8n8.x1.trans.shared.b16 {%0}, [%1];" : "=r"(r[0]) : "r"(addr));
  if (COUNT == 2 && !TRANS) asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0,%1}, [%2];" : "=r"(r[0]), "=r"(r[1]) : "r"(addr));
  if (COUNT == 2 && TRANS) asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0,%1}, [%2];" : "=r"(r[0]), "=r"(r[1]) : "r"(addr));
  if (COUNT == 4 && !TRANS)
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];" : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(addr));
  if (COUNT == 4 && TRANS)
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];" : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(addr));
  for (int q = 0; q < COUNT; q++) out[l * COUNT + q] = r[q];
}

static int failures = 0;

static void report(const char* what, int bad, int total) {
  printf("%-24s %s (%d of %d elements wrong)\n", what, bad ? "MISMATCH" : "ok", bad, total);
  failures += bad != 0;
}

template <int COUNT, bool TRANS>
static void check_ldm(const char* name, const int* table) {
  uint32_t* d;
  cudaMalloc(&d, 32 * COUNT * 4);
  ldm<COUNT, TRANS><<<1, 32>>>(d);
  uint32_t h[32 * 4];
  cudaMemcpy(h, d, 32 * COUNT * 4, cudaMemcpyDeviceToHost);
  cudaFree(d);
  int bad = 0;
  for (int l = 0; l < 32; l++)
    for (int s = 0; s < 2 * COUNT; s++) {
      uint32_t reg = h[l * COUNT + s / 2];
      int got = s % 2 ? int(reg >> 16) : int(reg & 0xffff);
      bad += got != table[l * 2 * COUNT + s];
    }
  report(name, bad, 64 * COUNT);
}

template <class T, class Acc, class Kernel>
static void check_mma(const char* name, int M, int N, int K, Kernel kernel, int lo, int hi) {
  T *A, *B;
  Acc* D;
  cudaMallocManaged(&A, M * K * sizeof(T));
  cudaMallocManaged(&B, K * N * sizeof(T));
  cudaMallocManaged(&D, M * N * sizeof(Acc));
  for (int i = 0; i < M * K; i++) A[i] = T(lo + rand() % (hi - lo + 1));
  for (int i = 0; i < K * N; i++) B[i] = T(lo + rand() % (hi - lo + 1));
  for (int i = 0; i < M * N; i++) D[i] = Acc(-12345);
  kernel<<<1, 32>>>(A, B, D);
  cudaDeviceSynchronize();
  int bad = 0;
  for (int m = 0; m < M; m++)
    for (int n = 0; n < N; n++) {
      double want = 0;
      for (int k = 0; k < K; k++) want += double(A[m * K + k]) * double(B[k * N + n]);
      bad += double(D[m * N + n]) != want;
    }
  report(name, bad, M * N);
  cudaFree(A);
  cudaFree(B);
  cudaFree(D);
}

int main() {
  srand(7);
  check_mma<float, float>("mma m16n8k16 f16", 16, 8, 16, mma_f16, -8, 8);
  check_mma<float, float>("mma m16n8k8 tf32", 16, 8, 8, mma_tf32, -8, 8);
  check_mma<int8_t, int>("mma m16n8k32 s8", 16, 8, 32, mma_s8, -100, 100);
  check_ldm<1, false>("ldmatrix x1", H_LDM_X1);
  check_ldm<1, true>("ldmatrix x1 trans", H_LDM_X1_T);
  check_ldm<2, false>("ldmatrix x2", H_LDM_X2);
  check_ldm<2, true>("ldmatrix x2 trans", H_LDM_X2_T);
  check_ldm<4, false>("ldmatrix x4", H_LDM_X4);
  check_ldm<4, true>("ldmatrix x4 trans", H_LDM_X4_T);
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) {
    printf("CUDA error: %s\n", cudaGetErrorString(e));
    return 2;
  }
  printf(failures ? "FAILED\n" : "all atoms match the hardware\n");
  return failures ? 1 : 0;
}
