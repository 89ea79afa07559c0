package supernet

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"pertnas/formats/checkpoint"
	"pertnas/nn"
	"pertnas/pertnas"
)

// A saved network is one safetensors file: the network's state_dict (DARTS
// model_search names, BN running statistics and num_batches_tracked), then
// the optimiser state under "optimizer." ("optimizer.step" and
// "optimizer.<param>.momentum_buffer"). Its metadata holds the format name,
// the edge configuration (JSON) and the masked (edge, op) pairs. The format
// name keeps the package's former name, searchnet: saved runs stay readable.
const (
	formatName = "pertnas.searchnet/1"
	optPrefix  = "optimizer."
	metaFormat = "format"
	metaEdges  = "edges"
	metaMasked = "masked"
	metaScaler = "loss_scale" // the nn.LossScaler as JSON, when loss scaling
)

// Save writes the network's state to path (atomically; the whole file is
// written when Save returns).
func (n *Net) Save(path string) (err error) {
	defer nn.RecoverDeviceFailure(&err)
	if n.net == nil {
		return errClosed
	}
	ts := n.net.Scope().StateDict()
	for _, t := range n.opt.State() {
		t.Name = optPrefix + t.Name
		ts = append(ts, t)
	}
	edges, err := json.Marshal(n.edges)
	if err != nil {
		return fmt.Errorf("supernet: save %s: %w", path, err)
	}
	md := map[string]string{metaFormat: formatName, metaEdges: string(edges), metaMasked: formatMasked(n.masks(), n.edges)}
	if n.scaler != nil {
		sc, err := json.Marshal(n.scaler)
		if err != nil {
			return fmt.Errorf("supernet: save %s: %w", path, err)
		}
		md[metaScaler] = string(sc)
	}
	if err := checkpoint.Write(path, ts, md); err != nil {
		return fmt.Errorf("supernet: save: %w", err)
	}
	return nil
}

// Load reads a file written by Save of a network with the same edge
// configuration (and sizes). On error the network is unchanged.
func (n *Net) Load(path string) (err error) {
	defer nn.RecoverDeviceFailure(&err)
	if n.net == nil {
		return errClosed
	}
	ts, md, err := checkpoint.Read(path)
	if err != nil {
		return fmt.Errorf("supernet: load: %w", err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("supernet: load %s: %s", path, fmt.Sprintf(format, args...))
	}
	if md[metaFormat] != formatName {
		return bad("metadata %q is %q, want %q", metaFormat, md[metaFormat], formatName)
	}
	var edges pertnas.EdgeConfig
	if err := json.Unmarshal([]byte(md[metaEdges]), &edges); err != nil {
		return bad("metadata %q: %v", metaEdges, err)
	}
	if edges != n.edges {
		return bad("saved from a network with edges %s, this one has %s", edges, n.edges)
	}
	m, err := parseMasked(md[metaMasked], n.edges)
	if err != nil {
		return bad("metadata %q: %v", metaMasked, err)
	}
	var scaler nn.LossScaler
	if sc, ok := md[metaScaler]; ok && n.scaler != nil {
		if err := json.Unmarshal([]byte(sc), &scaler); err != nil || !(scaler.Scale > 0) {
			return bad("metadata %q: %q is not a loss scaler's state", metaScaler, sc)
		}
	}
	var model, opt []checkpoint.Tensor
	for _, t := range ts {
		if name, ok := strings.CutPrefix(t.Name, optPrefix); ok {
			t.Name = name
			opt = append(opt, t)
		} else {
			model = append(model, t)
		}
	}
	// The optimiser checks everything before changing anything; the model
	// too. Load the optimiser into a fresh one so that a bad model leaves
	// the current optimiser as it was.
	o := n.newSGD()
	if err := o.LoadState(opt); err != nil {
		return bad("%v", err)
	}
	if err := n.net.Scope().LoadStateDict(model); err != nil {
		return bad("%v", err)
	}
	n.opt = o
	if scaler.Scale > 0 {
		*n.scaler = scaler
	}
	return n.setMasks(m)
}

// formatMasked lists the masked candidates as "edge:op" pairs separated by
// commas ("" when every mask is 1).
func formatMasked(m masks, edges pertnas.EdgeConfig) string {
	var parts []string
	for e, eo := range edges {
		for _, o := range eo.Ops.List() {
			if !m[e][o] {
				parts = append(parts, fmt.Sprintf("%d:%d", e, o))
			}
		}
	}
	return strings.Join(parts, ",")
}

func parseMasked(s string, edges pertnas.EdgeConfig) (masks, error) {
	var m masks
	for e := range m {
		for o := range m[e] {
			m[e][o] = true
		}
	}
	if s == "" {
		return m, nil
	}
	for _, p := range strings.Split(s, ",") {
		es, os, ok := strings.Cut(p, ":")
		e, err1 := strconv.Atoi(es)
		o, err2 := strconv.Atoi(os)
		if !ok || err1 != nil || err2 != nil || e < 0 || e >= pertnas.NumEdges || !edges[e].Ops.Has(o) {
			return m, fmt.Errorf("bad masked pair %q", p)
		}
		m[e][o] = false
	}
	return m, nil
}
