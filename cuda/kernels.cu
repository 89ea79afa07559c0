// kernels.cu: the CUDA C of the PertNAS CUDA backend (package cuda), embedded
// into the Go binary (kernels.go) and compiled at run time by NVRTC.
#ifndef BLOCK
#define BLOCK 256
#endif
#define NEG_INF (__int_as_float(0xff800000))
#define GRID_LOOP(i, n) for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (long long)blockDim.x * gridDim.x)

// Tensors are passed as (void *p, int p_t): storage and element type
// (0 fp32, 1 fp16, 2 bf16). Arithmetic is fp32; LD widens an element, ST
// rounds to the storage type (round to nearest even), ADD is ST(LD + v).
typedef unsigned short u16;
#ifndef HOST_EMULATION
__device__ __forceinline__ float h2f(u16 h) { float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h)); return f; }
__device__ __forceinline__ u16 f2h(float f) { u16 h; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f)); return h; }
#endif
__device__ __forceinline__ float b2f(u16 b) { return __int_as_float((int)((unsigned)b << 16)); }
__device__ __forceinline__ u16 f2b(float f) {
	unsigned u = (unsigned)__float_as_int(f);
	if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fc0; // NaN stays NaN
	return (u16)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
__device__ __forceinline__ float ld(const void *p, int t, long long i) {
	if (t == 0) return ((const float *)p)[i];
	u16 v = ((const u16 *)p)[i];
	return t == 1 ? h2f(v) : b2f(v);
}
__device__ __forceinline__ void st(void *p, int t, long long i, float v) {
	if (t == 0) ((float *)p)[i] = v;
	else ((u16 *)p)[i] = t == 1 ? f2h(v) : f2b(v);
}
#define LD(x, i) ld(x, x##_t, (i))
#define ST(x, i, v) st(x, x##_t, (i), (v))
#define ADD(x, i, v) do { long long i_ = (i); st(x, x##_t, i_, ld(x, x##_t, i_) + (v)); } while (0)

extern "C" __global__ void k_fill(void *y, int y_t, float v, long long n) {
	GRID_LOOP(i, n) ST(y, i, v);
}

// y = a*x; also converts between element types (a = 1).
extern "C" __global__ void k_scale(void *y, int y_t, const void *x, int x_t, float a, long long n) {
	GRID_LOOP(i, n) ST(y, i, a * LD(x, i));
}

extern "C" __global__ void k_axpy(void *y, int y_t, const void *x, int x_t, float a, long long n) {
	GRID_LOOP(i, n) ADD(y, i, a * LD(x, i));
}

// Loss scaling: x *= a; flag[0] = 1 when any result is not finite.
extern "C" __global__ void k_unscale(void *x, int x_t, float a, int *flag, long long n) {
	GRID_LOOP(i, n) {
		float v = a * LD(x, i);
		ST(x, i, v);
		if (!(v - v == 0.f)) flag[0] = 1;
	}
}

// Block-wide sum of one double per thread, in a fixed tree order.
__device__ double block_sum(double v) {
	__shared__ double s[BLOCK];
	s[threadIdx.x] = v;
	__syncthreads();
	for (int w = BLOCK / 2; w > 0; w >>= 1) {
		if (threadIdx.x < w) s[threadIdx.x] += s[threadIdx.x + w];
		__syncthreads();
	}
	double r = s[0];
	__syncthreads();
	return r;
}

// Sums of squares of many buffers in one launch (the gradient norm). Chunk j
// is elements [start, start+n) of buffer x of type t; one block per chunk
// writes out[j], its sum of squares in double in a fixed order (fixed
// tree), and the host adds out[] in order. The chunks depend only on the
// buffers' sizes, so the result does not vary from run to run.
struct sumsq_chunk { const void *x; long long start; int n; int t; };
extern "C" __global__ void k_sumsq(double *out, const struct sumsq_chunk *chunks, int nchunks) {
	for (int j = blockIdx.x; j < nchunks; j += gridDim.x) {
		const void *x = chunks[j].x;
		int x_t = chunks[j].t, n = chunks[j].n;
		long long start = chunks[j].start;
		double acc = 0;
		for (int i = threadIdx.x; i < n; i += BLOCK) { double v = LD(x, start + i); acc += v * v; }
		acc = block_sum(acc);
		if (threadIdx.x == 0) out[j] = acc;
	}
}

extern "C" __global__ void k_relu(void *y, int y_t, const void *x, int x_t, long long n) {
	GRID_LOOP(i, n) { float v = LD(x, i); ST(y, i, v > 0.f ? v : 0.f); }
}

// dx (+)= dy where y > 0; without accumulate dx may be dy.
extern "C" __global__ void k_relu_bwd(void *dx, int dx_t, const void *y, int y_t, const void *dy, int dy_t, long long n, int accumulate) {
	GRID_LOOP(i, n) {
		if (accumulate) { if (LD(y, i) > 0.f) ADD(dx, i, LD(dy, i)); }
		else ST(dx, i, LD(y, i) > 0.f ? LD(dy, i) : 0.f);
	}
}

// Max pooling, padding = -inf, ties to the first maximum in row-major window order.
extern "C" __global__ void k_maxpool(void *y, int y_t, const void *x, int x_t, int nc, int h, int w, int oh, int ow, int k, int s, int p) {
	long long total = (long long)nc * oh * ow;
	GRID_LOOP(i, total) {
		int ox = i % ow, oy = (i / ow) % oh; long long base = i / ((long long)ow * oh) * h * w;
		float m = NEG_INF;
		for (int ky = 0; ky < k; ky++) {
			int iy = oy * s - p + ky; if (iy < 0 || iy >= h) continue;
			for (int kx = 0; kx < k; kx++) {
				int ix = ox * s - p + kx; if (ix < 0 || ix >= w) continue;
				float v = LD(x, base + iy * w + ix); if (v > m) m = v;
			}
		}
		ST(y, i, m);
	}
}

// win_lo is the first output index whose window (start o*s-p, length k)
// contains input index i.
__device__ int win_lo(int i, int p, int k, int s) {
	int num = i + p - k + 1;
	return num <= 0 ? 0 : (num + s - 1) / s;
}

// Gradient of max pooling, gathered per input element (deterministic): an
// input receives dy of every window whose first maximum it is.
extern "C" __global__ void k_maxpool_bwd(void *dx, int dx_t, const void *x, int x_t, const void *dy, int dy_t, int nc, int h, int w, int oh, int ow, int k, int s, int p, int accumulate) {
	long long total = (long long)nc * h * w;
	GRID_LOOP(i, total) {
		int ix = i % w, iy = (i / w) % h; long long plane = i / ((long long)w * h);
		long long xb = plane * h * w, yb = plane * oh * ow;
		float g = 0.f;
		for (int oy = win_lo(iy, p, k, s); oy < oh && oy * s - p <= iy; oy++) {
			for (int ox = win_lo(ix, p, k, s); ox < ow && ox * s - p <= ix; ox++) {
				int by = -1, bx = -1; float m = NEG_INF;
				for (int ky = 0; ky < k; ky++) {
					int yy = oy * s - p + ky; if (yy < 0 || yy >= h) continue;
					for (int kx = 0; kx < k; kx++) {
						int xx = ox * s - p + kx; if (xx < 0 || xx >= w) continue;
						float v = LD(x, xb + yy * w + xx);
						if (by < 0 || v > m) { m = v; by = yy; bx = xx; }
					}
				}
				if (by == iy && bx == ix) g += LD(dy, yb + oy * ow + ox);
			}
		}
		if (accumulate) ADD(dx, i, g); else ST(dx, i, g);
	}
}

__device__ int pool_count(int oy, int ox, int h, int w, int k, int s, int p, int countPad) {
	if (countPad) return k * k;
	int y0 = oy * s - p, y1 = y0 + k, x0 = ox * s - p, x1 = x0 + k;
	if (y0 < 0) y0 = 0;
	if (y1 > h) y1 = h;
	if (x0 < 0) x0 = 0;
	if (x1 > w) x1 = w;
	return (y1 - y0) * (x1 - x0);
}

extern "C" __global__ void k_avgpool(void *y, int y_t, const void *x, int x_t, int nc, int h, int w, int oh, int ow, int k, int s, int p, int countPad) {
	long long total = (long long)nc * oh * ow;
	GRID_LOOP(i, total) {
		int ox = i % ow, oy = (i / ow) % oh; long long base = i / ((long long)ow * oh) * h * w;
		float acc = 0.f;
		for (int ky = 0; ky < k; ky++) {
			int iy = oy * s - p + ky; if (iy < 0 || iy >= h) continue;
			for (int kx = 0; kx < k; kx++) {
				int ix = ox * s - p + kx; if (ix < 0 || ix >= w) continue;
				acc += LD(x, base + iy * w + ix);
			}
		}
		ST(y, i, acc / (float)pool_count(oy, ox, h, w, k, s, p, countPad));
	}
}

extern "C" __global__ void k_avgpool_bwd(void *dx, int dx_t, const void *dy, int dy_t, int nc, int h, int w, int oh, int ow, int k, int s, int p, int countPad, int accumulate) {
	long long total = (long long)nc * h * w;
	GRID_LOOP(i, total) {
		int ix = i % w, iy = (i / w) % h; long long yb = i / ((long long)w * h) * oh * ow;
		float g = 0.f;
		for (int oy = win_lo(iy, p, k, s); oy < oh && oy * s - p <= iy; oy++) {
			for (int ox = win_lo(ix, p, k, s); ox < ow && ox * s - p <= ix; ox++) {
				g += LD(dy, yb + oy * ow + ox) / (float)pool_count(oy, ox, h, w, k, s, p, countPad);
			}
		}
		if (accumulate) ADD(dx, i, g); else ST(dx, i, g);
	}
}

// One block per row of hw elements: y[row] = mean.
extern "C" __global__ void k_gap(void *y, int y_t, const void *x, int x_t, int rows, int hw) {
	for (int r = blockIdx.x; r < rows; r += gridDim.x) {
		double acc = 0;
		for (int j = threadIdx.x; j < hw; j += BLOCK) acc += LD(x, (long long)r * hw + j);
		acc = block_sum(acc);
		if (threadIdx.x == 0) ST(y, r, (float)(acc / hw));
	}
}

extern "C" __global__ void k_gap_bwd(void *dx, int dx_t, const void *dy, int dy_t, int hw, long long n, int accumulate) {
	GRID_LOOP(i, n) {
		float g = LD(dy, i / hw) / (float)hw;
		if (accumulate) ADD(dx, i, g); else ST(dx, i, g);
	}
}

// dst[s, dstOff*hw + r] (+)= src[s, srcOff*hw + r] for r < len = c*hw.
extern "C" __global__ void k_copy_channels(void *dst, int dst_t, long long dstStride, long long dstOff, const void *src, int src_t, long long srcStride, long long srcOff, long long len, int n, int accumulate) {
	long long total = len * n;
	GRID_LOOP(i, total) {
		long long s = i / len, r = i % len;
		float v = LD(src, s * srcStride + srcOff + r);
		long long d = s * dstStride + dstOff + r;
		if (accumulate) ADD(dst, d, v); else ST(dst, d, v);
	}
}

// y[p, i, j] = x[p, i+oy, j+ox], y is [planes, h-oy, w-ox].
extern "C" __global__ void k_shift(void *y, int y_t, const void *x, int x_t, int planes, int h, int w, int oy, int ox) {
	int yh = h - oy, yw = w - ox;
	long long total = (long long)planes * yh * yw;
	GRID_LOOP(i, total) {
		int j = i % yw, r = (i / yw) % yh; long long p = i / ((long long)yw * yh);
		ST(y, i, LD(x, (p * h + r + oy) * w + j + ox));
	}
}

extern "C" __global__ void k_shift_bwd(void *dx, int dx_t, const void *dy, int dy_t, int planes, int h, int w, int oy, int ox) {
	int yh = h - oy, yw = w - ox;
	long long total = (long long)planes * yh * yw;
	GRID_LOOP(i, total) {
		int j = i % yw, r = (i / yw) % yh; long long p = i / ((long long)yw * yh);
		ADD(dx, (p * h + r + oy) * w + j + ox, LD(dy, i));
	}
}

// y[i, :] (+)= s[i] * x[i, :], samples of length size.
extern "C" __global__ void k_scale_samples(void *y, int y_t, const void *x, int x_t, const float *s, long long size, int n, int accumulate) {
	long long total = size * n;
	GRID_LOOP(i, total) {
		float v = s[i / size] * LD(x, i);
		if (accumulate) ADD(y, i, v); else ST(y, i, v);
	}
}

extern "C" __global__ void k_add_row_bias(void *y, int y_t, const void *bias, int bias_t, int cols, long long n) {
	GRID_LOOP(i, n) ADD(y, i, LD(bias, i % cols));
}

// dbias[j] += sum_r dy[r, j], one thread per column, rows in order.
extern "C" __global__ void k_row_bias_bwd(void *dbias, int dbias_t, const void *dy, int dy_t, int rows, int cols) {
	GRID_LOOP(j, cols) {
		float acc = 0.f;
		for (int r = 0; r < rows; r++) acc += LD(dy, (long long)r * cols + j);
		ADD(dbias, j, acc);
	}
}

// One block per row: probs = softmax(logits), rowloss[r] = -sum_j t_j log p_j
// with t = (1-s)*onehot(label) + s/classes.
extern "C" __global__ void k_softmax_xent(void *probs, int probs_t, float *rowloss, const void *x, int x_t, const int *labels, int rows, int classes, float smoothing) {
	__shared__ float red[BLOCK];
	for (int r = blockIdx.x; r < rows; r += gridDim.x) {
		long long b = (long long)r * classes;
		float m = NEG_INF;
		for (int j = threadIdx.x; j < classes; j += BLOCK) m = fmaxf(m, LD(x, b + j));
		red[threadIdx.x] = m; __syncthreads();
		for (int w = BLOCK / 2; w > 0; w >>= 1) { if (threadIdx.x < w) red[threadIdx.x] = fmaxf(red[threadIdx.x], red[threadIdx.x + w]); __syncthreads(); }
		m = red[0]; __syncthreads();
		double se = 0, sx = 0;
		for (int j = threadIdx.x; j < classes; j += BLOCK) { float v = LD(x, b + j); se += exp((double)(v - m)); sx += v; }
		se = block_sum(se); sx = block_sum(sx);
		float lse = m + (float)log(se);
		for (int j = threadIdx.x; j < classes; j += BLOCK) ST(probs, b + j, (float)(exp((double)(LD(x, b + j) - m)) / se));
		if (threadIdx.x == 0) {
			int lab = labels[r];
			double loss = (1.0 - smoothing) * (lse - LD(x, b + lab)) + smoothing * (lse - sx / classes);
			rowloss[r] = (float)loss;
		}
	}
}

// One block: loss[0] = mean of rowloss (fixed order).
extern "C" __global__ void k_mean(void *loss, int loss_t, const float *rowloss, int rows) {
	double acc = 0;
	for (int r = threadIdx.x; r < rows; r += BLOCK) acc += rowloss[r];
	acc = block_sum(acc);
	if (threadIdx.x == 0) ST(loss, 0, (float)(acc / rows));
}

// dlogits += dloss[0] * (probs - t) / rows.
extern "C" __global__ void k_softmax_xent_bwd(void *dlogits, int dlogits_t, const void *probs, int probs_t, const int *labels, const void *dloss, int dloss_t, int rows, int classes, float smoothing) {
	long long total = (long long)rows * classes;
	float g = LD(dloss, 0) / rows;
	GRID_LOOP(i, total) {
		int j = i % classes; int r = i / classes;
		float t = smoothing / classes + (labels[r] == j ? 1.f - smoothing : 0.f);
		ADD(dlogits, i, g * (LD(probs, i) - t));
	}
}

// SGD with momentum and weight decay, PyTorch semantics (dampening 0).
extern "C" __global__ void k_sgd(void *w, int w_t, const void *grad, int grad_t, void *buf, int buf_t, float lr, float momentum, float wd, int nesterov, int first, long long n) {
	GRID_LOOP(i, n) {
		float wi = LD(w, i);
		float g = LD(grad, i) + wd * wi;
		if (buf == 0) { ST(w, i, wi - lr * g); continue; }
		float b = first ? g : momentum * LD(buf, i) + g;
		ST(buf, i, b);
		ST(w, i, wi - lr * (nesterov ? g + momentum * b : b));
	}
}

// Depthwise convolution (groups == C == OC, weight [C, 1, K, K]), direct:
// x [N, C, H, W], y [N, C, OH, OW]; nc = N*C. Each thread computes one output.
extern "C" __global__ void k_dw_fwd(void *y, int y_t, const void *x, int x_t, const void *w, int w_t, int nc, int c, int h, int wd, int oh, int ow, int k, int s, int p, int dil) {
	long long total = (long long)nc * oh * ow;
	GRID_LOOP(i, total) {
		int ox = i % ow, oy = (i / ow) % oh; long long plane = i / ((long long)ow * oh);
		long long xb = plane * h * wd, wb = (plane % c) * k * k;
		float acc = 0.f;
		for (int ky = 0; ky < k; ky++) {
			int iy = oy * s - p + ky * dil; if (iy < 0 || iy >= h) continue;
			for (int kx = 0; kx < k; kx++) {
				int ix = ox * s - p + kx * dil; if (ix < 0 || ix >= wd) continue;
				acc += LD(x, xb + iy * wd + ix) * LD(w, wb + ky * k + kx);
			}
		}
		ST(y, i, acc);
	}
}

// dx += gradient of k_dw_fwd with respect to x, gathered per input element.
extern "C" __global__ void k_dw_bwd_data(void *dx, int dx_t, const void *dy, int dy_t, const void *w, int w_t, int nc, int c, int h, int wd, int oh, int ow, int k, int s, int p, int dil, int accumulate) {
	long long total = (long long)nc * h * wd;
	GRID_LOOP(i, total) {
		int ix = i % wd, iy = (i / wd) % h; long long plane = i / ((long long)wd * h);
		long long yb = plane * oh * ow, wb = (plane % c) * k * k;
		float acc = 0.f;
		for (int ky = 0; ky < k; ky++) {
			int ty = iy + p - ky * dil; if (ty < 0 || ty % s != 0 || ty / s >= oh) continue;
			for (int kx = 0; kx < k; kx++) {
				int tx = ix + p - kx * dil; if (tx < 0 || tx % s != 0 || tx / s >= ow) continue;
				acc += LD(dy, yb + (ty / s) * ow + tx / s) * LD(w, wb + ky * k + kx);
			}
		}
		if (accumulate) ADD(dx, i, acc); else ST(dx, i, acc);
	}
}

// dw += gradient of k_dw_fwd with respect to w: one block per weight element
// reduces over N*OH*OW in a fixed order.
extern "C" __global__ void k_dw_bwd_filter(void *dw, int dw_t, const void *x, int x_t, const void *dy, int dy_t, int n, int c, int h, int wd, int oh, int ow, int k, int s, int p, int dil) {
	for (int e = blockIdx.x; e < c * k * k; e += gridDim.x) {
		int kx = e % k, ky = (e / k) % k, ch = e / (k * k);
		long long cnt = (long long)n * oh * ow;
		float acc = 0.f;
		for (long long t = threadIdx.x; t < cnt; t += BLOCK) {
			int ox = t % ow, oy = (t / ow) % oh; long long plane = (t / ((long long)ow * oh)) * c + ch;
			int iy = oy * s - p + ky * dil, ix = ox * s - p + kx * dil;
			if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
			acc += LD(dy, (plane * oh + oy) * ow + ox) * LD(x, (plane * h + iy) * wd + ix);
		}
		double sum = block_sum(acc);
		if (threadIdx.x == 0) ADD(dw, e, (float)sum);
	}
}

// Batch norm backward with fixed statistics (inference mode), one block per
// channel: dgamma[c] += sum dy*xhat, dbeta[c] += sum dy,
// dx += dy * gamma * invstd. x is [n, c, hw]; gamma, dgamma and dbeta may
// be null.
extern "C" __global__ void k_bn_infer_bwd(void *dx, int dx_t, void *dgamma, int dgamma_t, void *dbeta, int dbeta_t, const void *x, int x_t, const void *dy, int dy_t, const void *gamma, int gamma_t, const void *mean, int mean_t, const void *var, int var_t, float eps, int n, int c, int hw) {
	for (int ch = blockIdx.x; ch < c; ch += gridDim.x) {
		float inv = rsqrtf(LD(var, ch) + eps);
		float g = gamma ? LD(gamma, ch) : 1.f;
		float mu = LD(mean, ch);
		double sdy = 0, sdyx = 0;
		long long cnt = (long long)n * hw;
		for (long long t = threadIdx.x; t < cnt; t += BLOCK) {
			long long idx = ((t / hw) * c + ch) * hw + t % hw;
			float d = LD(dy, idx);
			sdy += d; sdyx += d * (LD(x, idx) - mu) * inv;
			ADD(dx, idx, d * g * inv);
		}
		sdy = block_sum(sdy); sdyx = block_sum(sdyx);
		if (threadIdx.x == 0) {
			if (dgamma) ADD(dgamma, ch, (float)sdyx);
			if (dbeta) ADD(dbeta, ch, (float)sdy);
		}
	}
}
