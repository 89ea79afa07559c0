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
// loader's own cache. OpenLibraries loads the first candidate that opens and,
// when one library cannot be loaded, returns an error listing every path
// tried. CheckSymbols resolves every bound symbol (the exact versioned ABI
// names of shared/spec/cuda-abi.md: cuMemAlloc_v2, cublasSgemm_v2, ...) and
// lists any that is missing. Available says whether a GPU is usable and why
// not; New / NewBackend open one.
//
// # Execution model
//
// Every Backend method queues its work on one CUDA stream (non-blocking) and
// returns; Download, SumSquares and Synchronize wait. Convolutions use cuDNN,
// with the algorithm of each direction chosen by cudnnFind*AlgorithmEx on the
// first call for a shape and cached, and one shared workspace. Training batch
// norm uses cuDNN (spatial mode); GEMMs use cuBLAS; everything else
// (elementwise ops, pooling with PyTorch's padding and tie rules, channel
// copies, losses, the SGD update, reductions) is CUDA C in kernels.go,
// compiled once per backend by NVRTC for the device's compute capability.
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
// the next synchronising call. Failure is an nn.DeviceFailure: the training
// drivers (train/traineval.Run, the searchnet networks) turn it into an error
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
// Mixed precision (design, not implemented): an Options.Half field selecting
// fp16 or bf16. Parameters, gradients, optimizer state and BN statistics stay
// fp32 ("master weights"); activations are stored in half precision in NHWC,
// so the backend keeps a half copy of each conv weight, refreshed after every
// SGDStep by a cast kernel. Convolutions run on tensor cores with half tensors
// and fp32 accumulation (CUDNN_DATA_HALF/BFLOAT16 tensors, FLOAT compute type,
// CUDNN_TENSOR_OP_MATH); GEMMs use cublasGemmEx with CUDA_R_16F/16BF inputs
// and CUBLAS_COMPUTE_32F; BN takes half x/y with fp32 scale/bias/statistics
// (cuDNN's mixed BN); losses, reductions and the SGD update stay fp32. For
// fp16, dynamic loss scaling as PyTorch's GradScaler: the loss gradient is
// seeded with the scale S (initially 2^16); before SGDStep, one fused kernel
// unscales every gradient by 1/S and sets a device flag on any inf/NaN; on
// overflow the step is skipped and S halves, after 2000 clean steps S doubles.
// bf16 needs no scaling. The nn.Backend interface stays fp32 at its edges
// (Upload/Download convert), so the engine does not change; parity against the
// CPU then holds only to about 1e-2 relative, so it is checked as training
// curves, not per op.
package cuda
