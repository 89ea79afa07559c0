// Package cuda is the GPU implementation of nn.Backend: the CUDA driver API,
// cuBLAS, cuDNN 9 (legacy API) and NVRTC, bound at run time with purego, so
// binaries build with CGO_ENABLED=0 and need no CUDA headers or toolkit; the
// libraries are only needed where a GPU is used.
//
// # Finding the libraries
//
// Find looks, in order, in the explicit folder (--cuda-lib-dir /
// $PERTNAS_CUDA_LIB_DIR), $LD_LIBRARY_PATH, Python environments'
// site-packages/nvidia/*/lib (virtualenv, conda, python on $PATH, ~/.local,
// system dist-packages), the system library folders, and finally the dynamic
// loader's own cache; a libcuda in a "stubs" folder is never a candidate.
// OpenLibraries loads the first libcuda whose cuInit is not a stub's
// (CUDA_ERROR_STUB_LIBRARY), asks cuDriverGetVersion, then loads NVRTC,
// cuBLASLt and cuBLAS all of one CUDA major, the newest the driver runs
// (.13, .12 or .11), and the cuDNN built for that major; when a library
// cannot be loaded it returns an error listing every path tried.
// Libraries.Versions (in DeviceInfo.String, so in the stages' logs) says
// what was loaded and what was skipped. CheckSymbols resolves every bound
// symbol (the exact versioned ABI names of docs/spec/cuda-abi.md:
// cuMemAlloc_v2, cublasSgemm_v2, ...) and lists any that is missing.
// Available says whether a GPU is usable and why not; New / NewBackend open
// one.
//
// # Files
//
// driver.go, cublas.go, cudnn.go and nvrtc.go bind the four libraries (one
// table of functions each, checked against docs/spec/cuda-abi.md by the
// tests); find.go and load.go find and load them; device.go opens a GPU;
// backend.go and memory.go are the nn.Backend with its memory pool, staging
// and kernel launches; convbn.go is the convolution and batch-norm layer
// built on cuDNN; kernels.cu is the CUDA C of the backend's own kernels
// (embedded by kernels.go).
//
// # Execution model
//
// Every Backend method queues its work on one CUDA stream (non-blocking) and
// returns; Download, SumSquares and Synchronize wait. Host slices passed in
// (Upload's source, labels, per-sample scales) are read only during the
// call: they are copied into pinned staging memory, from which the
// asynchronous copy reads. Convolutions use cuDNN, with the algorithm of
// each direction chosen by cudnnFind*AlgorithmEx on the first call for a
// shape and cached, run with the math type of the variant Find timed and
// the workspace cuDNN asks for it; a depthwise convolution falls back to
// the backend's own kernel when cuDNN supports none within the workspace.
// Options.Deterministic (--deterministic) keeps only algorithms cuDNN marks
// deterministic, chosen in a fixed order, so a rerun gives the same bits.
// Training batch
// norm uses cuDNN (spatial mode); GEMMs use cuBLAS; everything else
// (elementwise ops, pooling with PyTorch's padding and tie rules, channel
// copies, losses, the SGD update, reductions) is CUDA C in kernels.cu,
// compiled once per backend by NVRTC to a cubin for the device (PTX for an
// older virtual architecture when NVRTC does not know the device, or when
// the driver refuses the cubin) and loaded with the driver's JIT log.
// Device memory is pooled by size class; a buffer returns to the pool when
// garbage collected. Small host arrays (labels, drop-path scales) are staged
// through pinned memory so their copies stay asynchronous.
//
// # Errors
//
// nn.Backend methods return no error: a failing library call panics with a
// Failure whose Err carries the library's own message (cuGetErrorString,
// cublasGetStatusString, cudnnGetErrorString and cudnnGetLastErrorString,
// nvrtcGetErrorString and the compile log). Asynchronous failures surface at
// the next synchronising call; with PERTNAS_CUDA_SYNC=1 (Options.SyncCheck)
// every method synchronises and a failure names the method and the kernels
// and library calls it queued, with their sizes. Failure is an
// nn.DeviceFailure: the training
// drivers (train/traineval.Run, the train/supernet networks) turn it into an error
// with nn.RecoverDeviceFailure, keeping their last checkpoint, and the stages
// exit with status 1; a rerun continues.
//
// # Precision
//
// By default convolutions (CUDNN_FMA_MATH) and GEMMs (CUBLAS_DEFAULT_MATH) are
// strict fp32 and results agree with the CPU backend within 1e-4 relative
// (the parity tests). Options.TF32 allows TF32 tensor cores (within 5e-3
// relative per layer, TestParityTF32), like PyTorch's default for cuDNN
// convolutions.
//
// Mixed precision (Options.Precision FP16 or BF16, --precision fp16|bf16):
// activations and their gradients are stored in half precision; parameters,
// their gradients, the optimizer state, BN statistics and losses stay
// float32. The backend implements nn.ActivationAllocator, so an nn.Graph's
// tensors are half buffers; every kernel takes each tensor as (pointer,
// element type) and computes in float32, so any method accepts any mix of
// buffer types. Convolutions run on tensor cores (CUDNN_TENSOR_OP_MATH) with
// half x, w, y and float32 accumulation; the float32 weights are converted
// on each call and a half weight gradient is added to the float32 one. Batch
// norm uses cuDNN's mixed mode (half x/y, float32 scale, bias and
// statistics). The classifier's GEMM converts its operands to float32.
// Upload, Download and Copy convert (round to nearest even). fp16 needs
// dynamic loss scaling (nn.LossScaler, as PyTorch's GradScaler), with
// UnscaleGrads unscaling all gradients and detecting overflow in one pass;
// bf16 has float32's range and needs none. The emulator checks every op and
// a training step at the tolerances of precision_test.go (fp16 4e-3 per op,
// 5e-2 after three steps; bf16 3e-2 and 1.5e-1), the GPU parity test the
// same with cuDNN.
package cuda
