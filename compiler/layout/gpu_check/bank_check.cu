// Hardware check of the bank-conflict model of tilec-layout (`smem::analyze`): one warp issues
// each access once; Nsight Compute reports wavefronts and conflicts (run `run_bank.sh`).
// Model predictions (tests/smem.rs) and the counts measured on an H100:
//   ldmatrix.x4 down a column of a 64-wide row-major f16 tile: 28 conflicts; with Sw<3,3,3>: 0
//   f32 column of a 32x32 row-major tile: 32 wavefronts (31 conflicts); rows padded to 33: 1
//   16-byte vector store by 32 lanes to consecutive addresses: 4 wavefronts, no conflicts
#include <cstdio>
#include <cstdint>
__device__ int sw333(int o) { return o ^ ((o & (7 << 6)) >> 3); }
template <bool SW> __global__ void ldm_x4(uint32_t* out) {
  __shared__ __align__(128) uint16_t S[32 * 64];
  int l = threadIdx.x;
  for (int i = l; i < 32 * 64; i += 32) S[i] = i;
  __syncthreads();
  int row = (l / 8) * 8 + l % 8, o = row * 64;  // column of four matrices at col 0
  if (SW) o = sw333(o);
  uint32_t a = uint32_t(__cvta_generic_to_shared(&S[o])), r0, r1, r2, r3;
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];" : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3) : "r"(a));
  out[l] = r0 + r1 + r2 + r3;
}
template <int STRIDE> __global__ void col_f32(float* out) {
  __shared__ float S[32 * 33];
  int l = threadIdx.x;
  for (int i = l; i < 32 * 33; i += 32) S[i] = i;
  __syncthreads();
  volatile float* v = S;
  out[l] = v[l * STRIDE + 5];
}
__global__ void vec16_store(float4* out) {
  __shared__ __align__(16) float4 S[32 * 64 * 2 / 16];
  int l = threadIdx.x;
  S[l] = make_float4(l, l, l, l);  // 32 lanes x 16 B, consecutive: 4 phases, no conflicts
  __syncthreads();
  out[l] = S[(l + 1) % 32];
}
int main() {
  void* d;
  cudaMalloc(&d, 4096);
  ldm_x4<false><<<1, 32>>>((uint32_t*)d);
  ldm_x4<true><<<1, 32>>>((uint32_t*)d);
  col_f32<32><<<1, 32>>>((float*)d);
  col_f32<33><<<1, 32>>>((float*)d);
  vec16_store<<<1, 32>>>((float4*)d);
  cudaDeviceSynchronize();
  printf("done %s\n", cudaGetErrorString(cudaGetLastError()));
}
