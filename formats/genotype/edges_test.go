package genotype

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestOpSetJSON(t *testing.T) {
	s := OpSetOf(6, 0, 3)
	b, _ := s.MarshalJSON()
	if string(b) != "[0,3,6]" {
		t.Fatalf("json %s", b)
	}
	var r OpSet
	if err := r.UnmarshalJSON(b); err != nil || r != s {
		t.Fatalf("round trip %v %v", r, err)
	}
	if err := r.UnmarshalJSON([]byte("[7]")); err == nil {
		t.Fatal("op 7 accepted")
	}
	if s.String() != "{max_pool_3x3,sep_conv_3x3,dil_conv_5x5}" || s.Len() != 3 || !s.Has(3) || s.Has(1) || s.Has(7) {
		t.Fatalf("%v", s)
	}
}

// TestEdgeConfigJSON: the form the search state and the darts fixtures
// store, {"ops": [...], "none": ...} per edge.
func TestEdgeConfigJSON(t *testing.T) {
	var c EdgeConfig
	c[0] = EdgeOps{Ops: AllOps, None: true}
	c[13] = EdgeOps{Ops: OpSetOf(4, 2)}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"ops":[0,1,2,3,4,5,6],"none":true}` + strings.Repeat(`,{"ops":[],"none":false}`, 12) + `,{"ops":[2,4],"none":false}]`
	if string(b) != want {
		t.Fatalf("json %s\nwant %s", b, want)
	}
	var back EdgeConfig
	if err := json.Unmarshal(b, &back); err != nil || back != c {
		t.Fatalf("round trip %v %v", back, err)
	}
	if s := c.String(); s != "0:{max_pool_3x3,avg_pool_3x3,skip_connect,sep_conv_3x3,sep_conv_5x5,dil_conv_3x3,dil_conv_5x5}+none 1:{} 2:{} 3:{} 4:{} 5:{} 6:{} 7:{} 8:{} 9:{} 10:{} 11:{} 12:{} 13:{skip_connect,sep_conv_5x5}" {
		t.Fatalf("String %q", s)
	}
}
