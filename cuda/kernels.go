package cuda

// kernelSource is the CUDA C compiled at run time by NVRTC (to PTX for the
// device's compute capability) for the operations cuDNN and cuBLAS lack or do
// with the wrong semantics. Conventions:
//   - extern "C" so the names are not mangled; every name is in kernelNames;
//   - element counts are long long and loops are grid-stride, so any launch
//     size is correct;
//   - "accumulate" kernels add into their output (the engine's backward rule);
//   - reductions are computed in a fixed order (a block per output with a
//     fixed tree), so results do not vary from run to run.
const kernelSource = `
#ifndef BLOCK
#define BLOCK 256
#endif
#define NEG_INF (__int_as_float(0xff800000))
#define GRID_LOOP(i, n) for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (long long)blockDim.x * gridDim.x)

extern "C" __global__ void k_fill(float *y, float v, long long n) {
	GRID_LOOP(i, n) y[i] = v;
}

extern "C" __global__ void k_scale(float *y, const float *x, float a, long long n) {
	GRID_LOOP(i, n) y[i] = a * x[i];
}

extern "C" __global__ void k_axpy(float *y, const float *x, float a, long long n) {
	GRID_LOOP(i, n) y[i] += a * x[i];
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

// One block: out[0] = sum x[i]^2 in double, fixed order.
extern "C" __global__ void k_sumsq(double *out, const float *x, long long n) {
	double acc = 0;
	for (long long i = threadIdx.x; i < n; i += BLOCK) { double v = x[i]; acc += v * v; }
	acc = block_sum(acc);
	if (threadIdx.x == 0) out[0] = acc;
}

extern "C" __global__ void k_relu(float *y, const float *x, long long n) {
	GRID_LOOP(i, n) { float v = x[i]; y[i] = v > 0.f ? v : 0.f; }
}

extern "C" __global__ void k_relu_bwd(float *dx, const float *y, const float *dy, long long n) {
	GRID_LOOP(i, n) if (y[i] > 0.f) dx[i] += dy[i];
}

// Max pooling, padding = -inf, ties to the first maximum in row-major window order.
extern "C" __global__ void k_maxpool(float *y, const float *x, int nc, int h, int w, int oh, int ow, int k, int s, int p) {
	long long total = (long long)nc * oh * ow;
	GRID_LOOP(i, total) {
		int ox = i % ow, oy = (i / ow) % oh; long long plane = i / ((long long)ow * oh);
		const float *xp = x + plane * h * w;
		float m = NEG_INF;
		for (int ky = 0; ky < k; ky++) {
			int iy = oy * s - p + ky; if (iy < 0 || iy >= h) continue;
			for (int kx = 0; kx < k; kx++) {
				int ix = ox * s - p + kx; if (ix < 0 || ix >= w) continue;
				float v = xp[iy * w + ix]; if (v > m) m = v;
			}
		}
		y[i] = m;
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
extern "C" __global__ void k_maxpool_bwd(float *dx, const float *x, const float *dy, int nc, int h, int w, int oh, int ow, int k, int s, int p) {
	long long total = (long long)nc * h * w;
	GRID_LOOP(i, total) {
		int ix = i % w, iy = (i / w) % h; long long plane = i / ((long long)w * h);
		const float *xp = x + plane * h * w;
		const float *dyp = dy + plane * oh * ow;
		float g = 0.f;
		for (int oy = win_lo(iy, p, k, s); oy < oh && oy * s - p <= iy; oy++) {
			for (int ox = win_lo(ix, p, k, s); ox < ow && ox * s - p <= ix; ox++) {
				int by = -1, bx = -1; float m = NEG_INF;
				for (int ky = 0; ky < k; ky++) {
					int yy = oy * s - p + ky; if (yy < 0 || yy >= h) continue;
					for (int kx = 0; kx < k; kx++) {
						int xx = ox * s - p + kx; if (xx < 0 || xx >= w) continue;
						float v = xp[yy * w + xx];
						if (by < 0 || v > m) { m = v; by = yy; bx = xx; }
					}
				}
				if (by == iy && bx == ix) g += dyp[oy * ow + ox];
			}
		}
		dx[i] += g;
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

extern "C" __global__ void k_avgpool(float *y, const float *x, int nc, int h, int w, int oh, int ow, int k, int s, int p, int countPad) {
	long long total = (long long)nc * oh * ow;
	GRID_LOOP(i, total) {
		int ox = i % ow, oy = (i / ow) % oh; long long plane = i / ((long long)ow * oh);
		const float *xp = x + plane * h * w;
		float acc = 0.f;
		for (int ky = 0; ky < k; ky++) {
			int iy = oy * s - p + ky; if (iy < 0 || iy >= h) continue;
			for (int kx = 0; kx < k; kx++) {
				int ix = ox * s - p + kx; if (ix < 0 || ix >= w) continue;
				acc += xp[iy * w + ix];
			}
		}
		y[i] = acc / (float)pool_count(oy, ox, h, w, k, s, p, countPad);
	}
}

extern "C" __global__ void k_avgpool_bwd(float *dx, const float *dy, int nc, int h, int w, int oh, int ow, int k, int s, int p, int countPad) {
	long long total = (long long)nc * h * w;
	GRID_LOOP(i, total) {
		int ix = i % w, iy = (i / w) % h; long long plane = i / ((long long)w * h);
		const float *dyp = dy + plane * oh * ow;
		float g = 0.f;
		for (int oy = win_lo(iy, p, k, s); oy < oh && oy * s - p <= iy; oy++) {
			for (int ox = win_lo(ix, p, k, s); ox < ow && ox * s - p <= ix; ox++) {
				g += dyp[oy * ow + ox] / (float)pool_count(oy, ox, h, w, k, s, p, countPad);
			}
		}
		dx[i] += g;
	}
}

// One block per row of hw elements: y[row] = mean.
extern "C" __global__ void k_gap(float *y, const float *x, int rows, int hw) {
	for (int r = blockIdx.x; r < rows; r += gridDim.x) {
		double acc = 0;
		for (int j = threadIdx.x; j < hw; j += BLOCK) acc += x[(long long)r * hw + j];
		acc = block_sum(acc);
		if (threadIdx.x == 0) y[r] = (float)(acc / hw);
	}
}

extern "C" __global__ void k_gap_bwd(float *dx, const float *dy, int hw, long long n) {
	GRID_LOOP(i, n) dx[i] += dy[i / hw] / (float)hw;
}

// dst[s, dstOff*hw + r] (+)= src[s, srcOff*hw + r] for r < len = c*hw.
extern "C" __global__ void k_copy_channels(float *dst, long long dstStride, long long dstOff, const float *src, long long srcStride, long long srcOff, long long len, int n, int accumulate) {
	long long total = len * n;
	GRID_LOOP(i, total) {
		long long s = i / len, r = i % len;
		float v = src[s * srcStride + srcOff + r];
		float *d = dst + s * dstStride + dstOff + r;
		if (accumulate) *d += v; else *d = v;
	}
}

// y[p, i, j] = x[p, i+oy, j+ox], y is [planes, h-oy, w-ox].
extern "C" __global__ void k_shift(float *y, const float *x, int planes, int h, int w, int oy, int ox) {
	int yh = h - oy, yw = w - ox;
	long long total = (long long)planes * yh * yw;
	GRID_LOOP(i, total) {
		int j = i % yw, r = (i / yw) % yh; long long p = i / ((long long)yw * yh);
		y[i] = x[(p * h + r + oy) * w + j + ox];
	}
}

extern "C" __global__ void k_shift_bwd(float *dx, const float *dy, int planes, int h, int w, int oy, int ox) {
	int yh = h - oy, yw = w - ox;
	long long total = (long long)planes * yh * yw;
	GRID_LOOP(i, total) {
		int j = i % yw, r = (i / yw) % yh; long long p = i / ((long long)yw * yh);
		dx[(p * h + r + oy) * w + j + ox] += dy[i];
	}
}

// y[i, :] (+)= s[i] * x[i, :], samples of length size.
extern "C" __global__ void k_scale_samples(float *y, const float *x, const float *s, long long size, int n, int accumulate) {
	long long total = size * n;
	GRID_LOOP(i, total) {
		float v = s[i / size] * x[i];
		if (accumulate) y[i] += v; else y[i] = v;
	}
}

extern "C" __global__ void k_add_row_bias(float *y, const float *bias, int cols, long long n) {
	GRID_LOOP(i, n) y[i] += bias[i % cols];
}

// dbias[j] += sum_r dy[r, j], one thread per column, rows in order.
extern "C" __global__ void k_row_bias_bwd(float *dbias, const float *dy, int rows, int cols) {
	GRID_LOOP(j, cols) {
		float acc = 0.f;
		for (int r = 0; r < rows; r++) acc += dy[(long long)r * cols + j];
		dbias[j] += acc;
	}
}

// One block per row: probs = softmax(logits), rowloss[r] = -sum_j t_j log p_j
// with t = (1-s)*onehot(label) + s/classes.
extern "C" __global__ void k_softmax_xent(float *probs, float *rowloss, const float *logits, const int *labels, int rows, int classes, float smoothing) {
	__shared__ float red[BLOCK];
	for (int r = blockIdx.x; r < rows; r += gridDim.x) {
		const float *x = logits + (long long)r * classes;
		float m = NEG_INF;
		for (int j = threadIdx.x; j < classes; j += BLOCK) m = fmaxf(m, x[j]);
		red[threadIdx.x] = m; __syncthreads();
		for (int w = BLOCK / 2; w > 0; w >>= 1) { if (threadIdx.x < w) red[threadIdx.x] = fmaxf(red[threadIdx.x], red[threadIdx.x + w]); __syncthreads(); }
		m = red[0]; __syncthreads();
		double se = 0, sx = 0;
		for (int j = threadIdx.x; j < classes; j += BLOCK) { se += exp((double)(x[j] - m)); sx += x[j]; }
		se = block_sum(se); sx = block_sum(sx);
		float lse = m + (float)log(se);
		for (int j = threadIdx.x; j < classes; j += BLOCK) probs[(long long)r * classes + j] = (float)(exp((double)(x[j] - m)) / se);
		if (threadIdx.x == 0) {
			int lab = labels[r];
			double loss = (1.0 - smoothing) * (lse - x[lab]) + smoothing * (lse - sx / classes);
			rowloss[r] = (float)loss;
		}
	}
}

// One block: loss[0] = mean of rowloss (fixed order).
extern "C" __global__ void k_mean(float *loss, const float *rowloss, int rows) {
	double acc = 0;
	for (int r = threadIdx.x; r < rows; r += BLOCK) acc += rowloss[r];
	acc = block_sum(acc);
	if (threadIdx.x == 0) loss[0] = (float)(acc / rows);
}

// dlogits += dloss[0] * (probs - t) / rows.
extern "C" __global__ void k_softmax_xent_bwd(float *dlogits, const float *probs, const int *labels, const float *dloss, int rows, int classes, float smoothing) {
	long long total = (long long)rows * classes;
	float g = dloss[0] / rows;
	GRID_LOOP(i, total) {
		int j = i % classes; int r = i / classes;
		float t = smoothing / classes + (labels[r] == j ? 1.f - smoothing : 0.f);
		dlogits[i] += g * (probs[i] - t);
	}
}

// SGD with momentum and weight decay, PyTorch semantics (dampening 0).
extern "C" __global__ void k_sgd(float *w, const float *grad, float *buf, float lr, float momentum, float wd, int nesterov, int first, long long n) {
	GRID_LOOP(i, n) {
		float g = grad[i] + wd * w[i];
		if (buf == 0) { w[i] -= lr * g; continue; }
		float b = first ? g : momentum * buf[i] + g;
		buf[i] = b;
		w[i] -= lr * (nesterov ? g + momentum * b : b);
	}
}

// Depthwise convolution (groups == C == OC, weight [C, 1, K, K]), direct:
// x [N, C, H, W], y [N, C, OH, OW]; nc = N*C. Each thread computes one output.
extern "C" __global__ void k_dw_fwd(float *y, const float *x, const float *w, int nc, int c, int h, int wd, int oh, int ow, int k, int s, int p, int dil) {
	long long total = (long long)nc * oh * ow;
	GRID_LOOP(i, total) {
		int ox = i % ow, oy = (i / ow) % oh; long long plane = i / ((long long)ow * oh);
		const float *xp = x + plane * h * wd;
		const float *wp = w + (plane % c) * k * k;
		float acc = 0.f;
		for (int ky = 0; ky < k; ky++) {
			int iy = oy * s - p + ky * dil; if (iy < 0 || iy >= h) continue;
			for (int kx = 0; kx < k; kx++) {
				int ix = ox * s - p + kx * dil; if (ix < 0 || ix >= wd) continue;
				acc += xp[iy * wd + ix] * wp[ky * k + kx];
			}
		}
		y[i] = acc;
	}
}

// dx += gradient of k_dw_fwd with respect to x, gathered per input element.
extern "C" __global__ void k_dw_bwd_data(float *dx, const float *dy, const float *w, int nc, int c, int h, int wd, int oh, int ow, int k, int s, int p, int dil) {
	long long total = (long long)nc * h * wd;
	GRID_LOOP(i, total) {
		int ix = i % wd, iy = (i / wd) % h; long long plane = i / ((long long)wd * h);
		const float *dyp = dy + plane * oh * ow;
		const float *wp = w + (plane % c) * k * k;
		float acc = 0.f;
		for (int ky = 0; ky < k; ky++) {
			int ty = iy + p - ky * dil; if (ty < 0 || ty % s != 0 || ty / s >= oh) continue;
			for (int kx = 0; kx < k; kx++) {
				int tx = ix + p - kx * dil; if (tx < 0 || tx % s != 0 || tx / s >= ow) continue;
				acc += dyp[(ty / s) * ow + tx / s] * wp[ky * k + kx];
			}
		}
		dx[i] += acc;
	}
}

// dw += gradient of k_dw_fwd with respect to w: one block per weight element
// reduces over N*OH*OW in a fixed order.
extern "C" __global__ void k_dw_bwd_filter(float *dw, const float *x, const float *dy, int n, int c, int h, int wd, int oh, int ow, int k, int s, int p, int dil) {
	for (int e = blockIdx.x; e < c * k * k; e += gridDim.x) {
		int kx = e % k, ky = (e / k) % k, ch = e / (k * k);
		long long cnt = (long long)n * oh * ow;
		float acc = 0.f;
		for (long long t = threadIdx.x; t < cnt; t += BLOCK) {
			int ox = t % ow, oy = (t / ow) % oh; long long plane = (t / ((long long)ow * oh)) * c + ch;
			int iy = oy * s - p + ky * dil, ix = ox * s - p + kx * dil;
			if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
			acc += dy[(plane * oh + oy) * ow + ox] * x[(plane * h + iy) * wd + ix];
		}
		double sum = block_sum(acc);
		if (threadIdx.x == 0) dw[e] += (float)sum;
	}
}

// Batch norm backward with fixed statistics (inference mode), one block per
// channel: dgamma[c] += sum dy*xhat, dbeta[c] += sum dy,
// dx += dy * gamma * invstd. x is [n, c, hw].
extern "C" __global__ void k_bn_infer_bwd(float *dx, float *dgamma, float *dbeta, const float *x, const float *dy, const float *gamma, const float *mean, const float *var, float eps, int n, int c, int hw) {
	for (int ch = blockIdx.x; ch < c; ch += gridDim.x) {
		float inv = rsqrtf(var[ch] + eps);
		float g = gamma ? gamma[ch] : 1.f;
		float mu = mean[ch];
		double sdy = 0, sdyx = 0;
		long long cnt = (long long)n * hw;
		for (long long t = threadIdx.x; t < cnt; t += BLOCK) {
			long long idx = ((t / hw) * c + ch) * hw + t % hw;
			float d = dy[idx];
			sdy += d; sdyx += d * (x[idx] - mu) * inv;
			dx[idx] += d * g * inv;
		}
		sdy = block_sum(sdy); sdyx = block_sum(sdyx);
		if (threadIdx.x == 0) {
			if (dgamma) dgamma[ch] += (float)sdyx;
			if (dbeta) dbeta[ch] += (float)sdy;
		}
	}
}
`

// kernelNames lists every kernel of kernelSource; the backend looks each up
// after loading the module.
var kernelNames = []string{
	"k_fill", "k_scale", "k_axpy", "k_sumsq", "k_relu", "k_relu_bwd",
	"k_maxpool", "k_maxpool_bwd", "k_avgpool", "k_avgpool_bwd", "k_gap", "k_gap_bwd",
	"k_copy_channels", "k_shift", "k_shift_bwd", "k_scale_samples",
	"k_add_row_bias", "k_row_bias_bwd", "k_softmax_xent", "k_mean", "k_softmax_xent_bwd",
	"k_sgd", "k_dw_fwd", "k_dw_bwd_data", "k_dw_bwd_filter", "k_bn_infer_bwd",
}

// blockSize is the BLOCK of kernelSource: every launch uses it.
const blockSize = 256
