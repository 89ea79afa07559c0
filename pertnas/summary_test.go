package pertnas

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestSummarySeconds: search.json reports each member's time, the
// selection's, the wall time of members side by side (the longest member
// plus the selection) and the summed device time, never the sum as the
// elapsed time.
func TestSummarySeconds(t *testing.T) {
	cfg := testConfig()
	dir := testDir(t)
	runSearch(t, dir, cfg, newFakeWorld())
	b, err := os.ReadFile(filepath.Join(dir, "search.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	var sum Summary
	if err := json.Unmarshal(b, &raw); err != nil || json.Unmarshal(b, &sum) != nil {
		t.Fatal(err)
	}
	if _, ok := raw["seconds"]; ok {
		t.Error(`search.json still has a summed "seconds"`)
	}
	if len(sum.MemberSeconds) != cfg.Npop {
		t.Fatalf("member_seconds %v for %d members", sum.MemberSeconds, cfg.Npop)
	}
	var members float64
	for _, s := range sum.MemberSeconds {
		members += s
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
	if !near(sum.WallSeconds, slices.Max(sum.MemberSeconds)+sum.SelectSeconds) || !near(sum.Seconds, members+sum.SelectSeconds) ||
		sum.WallSeconds > sum.Seconds || sum.SelectSeconds <= 0 {
		t.Errorf("wall %g, device %g, members %v, select %g", sum.WallSeconds, sum.Seconds, sum.MemberSeconds, sum.SelectSeconds)
	}
}
