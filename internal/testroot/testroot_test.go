package testroot

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRootHoldsGoMod(t *testing.T) {
	root := Root(t)
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "module pertnas\n"; len(b) < len(want) || string(b[:len(want)]) != want {
		t.Fatalf("%s/go.mod does not declare module pertnas", root)
	}
	wd, _ := os.Getwd()
	if filepath.Join(root, "internal", "testroot") != wd {
		t.Fatalf("Root = %s, want the folder two levels above %s", root, wd)
	}
	if got, want := Path(t, "internal", "testroot"), wd; got != want {
		t.Fatalf("Path = %s, want %s", got, want)
	}
}

func TestFindWalksUpToNearestGoMod(t *testing.T) {
	top := t.TempDir()
	mid := filepath.Join(top, "mid")
	deep := filepath.Join(mid, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{top, mid} {
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ from, want string }{{deep, mid}, {mid, mid}, {top, top}} {
		got, err := find(c.from)
		if err != nil || got != c.want {
			t.Fatalf("find(%s) = %q, %v; want %q", c.from, got, err, c.want)
		}
	}
	if _, err := find(string(filepath.Separator)); err == nil {
		t.Fatal("find(/) found a go.mod")
	}
}
