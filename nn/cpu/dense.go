package cpu

import (
	"fmt"
	"math"

	"pertnas/nn"
	"pertnas/nn/cpu/kern"
)

// MatMul computes C (+)= op(A)·op(B) with contiguous row-major operands.
// Linear layers are small here, so it runs on the calling goroutine.
func (be *Backend) MatMul(transA, transB bool, m, n, k int, a, b nn.Buffer, accumulate bool, c nn.Buffer) {
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	kern.Gemm(transA, transB, m, n, k, be.in(a), lda, be.in(b), ldb, accumulate, be.dst(c, accumulate), n)
}

// AddRowBias adds bias[j] to every row of y [rows, cols].
func (be *Backend) AddRowBias(rows, cols int, bias, y nn.Buffer) {
	bd, yd := be.in(bias), be.in(y)
	if len(bd) != cols || len(yd) != rows*cols {
		panic(fmt.Sprintf("cpu: AddRowBias: buffers %d, %d for %d×%d", len(bd), len(yd), rows, cols))
	}
	for r := 0; r < rows; r++ {
		row := yd[r*cols : (r+1)*cols]
		for j, v := range bd {
			row[j] += v
		}
	}
}

// RowBiasBackward adds the column sums of dy (rows in order) to dbias.
func (be *Backend) RowBiasBackward(rows, cols int, dy, dbias nn.Buffer) {
	gd, bd := be.in(dy), be.in(dbias)
	if len(bd) != cols || len(gd) != rows*cols {
		panic(fmt.Sprintf("cpu: RowBiasBackward: buffers %d, %d for %d×%d", len(gd), len(bd), rows, cols))
	}
	for j := range bd {
		var s float64
		for r := 0; r < rows; r++ {
			s += float64(gd[r*cols+j])
		}
		bd[j] += float32(s)
	}
}

// SoftmaxCrossEntropy computes probabilities and the mean smoothed loss.
func (be *Backend) SoftmaxCrossEntropy(n, classes int, logits nn.Buffer, labels []int32, smoothing float32, probs, loss nn.Buffer) {
	ld, pd, lossd := be.in(logits), be.out(probs), be.out(loss)
	if len(ld) != n*classes || len(pd) != n*classes || len(lossd) != 1 || len(labels) != n {
		panic(fmt.Sprintf("cpu: SoftmaxCrossEntropy: buffers %d, %d, %d labels for %d×%d", len(ld), len(pd), len(labels), n, classes))
	}
	s := float64(smoothing)
	var total float64
	for i := 0; i < n; i++ {
		row, prow := ld[i*classes:(i+1)*classes], pd[i*classes:(i+1)*classes]
		mx := math.Inf(-1)
		for _, v := range row {
			mx = math.Max(mx, float64(v))
		}
		var se, sx float64
		for _, v := range row {
			se += math.Exp(float64(v) - mx)
			sx += float64(v)
		}
		lse := mx + math.Log(se)
		for j, v := range row {
			prow[j] = float32(math.Exp(float64(v) - lse))
		}
		// -Σ q_j log p_j with q = (1-s)·onehot + s/K.
		total += lse - (1-s)*float64(row[labels[i]]) - s*sx/float64(classes)
	}
	lossd[0] = float32(total / float64(n))
}

// SoftmaxCrossEntropyBackward adds dloss·(probs - target)/n to dlogits.
func (be *Backend) SoftmaxCrossEntropyBackward(n, classes int, probs nn.Buffer, labels []int32, smoothing float32, dloss, dlogits nn.Buffer) {
	pd, gd := be.in(probs), be.in(dlogits)
	if len(pd) != n*classes || len(gd) != n*classes || len(labels) != n {
		panic(fmt.Sprintf("cpu: SoftmaxCrossEntropyBackward: buffers %d, %d, %d labels for %d×%d", len(pd), len(gd), len(labels), n, classes))
	}
	scale := be.in(dloss)[0] / float32(n)
	off := smoothing / float32(classes)
	for i := 0; i < n; i++ {
		prow, grow := pd[i*classes:(i+1)*classes], gd[i*classes:(i+1)*classes]
		for j, p := range prow {
			t := off
			if j == int(labels[i]) {
				t += 1 - smoothing
			}
			grow[j] += scale * (p - t)
		}
	}
}
