package cuda

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/ebitengine/purego"
)

// Libraries holds the opened NVIDIA libraries and the functions bound from them.
type Libraries struct {
	Paths   [numLibs]string // the file (or soname) each library was loaded from
	handles [numLibs]uintptr

	drv    driverFuncs
	blas   cublasFuncs
	dnn    cudnnFuncs
	rtc    nvrtcFuncs
	bound  bool
	errors []string // missing symbols, "library: symbol"
}

// OpenLibraries loads every library of f, trying each library's candidates in order.
// The error, when one cannot be loaded, lists every path that was looked at
// and why each candidate failed, and says how to point the search elsewhere.
func OpenLibraries(f *Found) (*Libraries, error) {
	l := &Libraries{}
	var failures []string
	for lib := Lib(0); lib < numLibs; lib++ {
		h, path, err := openOne(f, lib)
		if err != nil {
			failures = append(failures, err.Error())
			continue
		}
		l.handles[lib], l.Paths[lib] = h, path
	}
	if len(failures) > 0 {
		l.Close()
		return nil, fmt.Errorf("cuda: cannot load the NVIDIA libraries (set --cuda-lib-dir or %s to the folder holding them):\n%s",
			EnvLibDir, strings.Join(failures, "\n"))
	}
	return l, nil
}

// openOne loads the companions of lib, then its first loadable candidate.
func openOne(f *Found, lib Lib) (uintptr, string, error) {
	const mode = purego.RTLD_NOW | purego.RTLD_GLOBAL
	for _, c := range f.Companions[lib] {
		// A companion that fails to load is not an error by itself: the main
		// library reports what it really lacks.
		_, _ = purego.Dlopen(c, mode)
	}
	var why []string
	for _, c := range f.Candidates[lib] {
		h, err := purego.Dlopen(c.Path, mode)
		if err == nil {
			return h, c.Path, nil
		}
		why = append(why, fmt.Sprintf("    %s (%s): %v", c.Path, c.Origin, err))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "  %s (%s) not loadable; searched:\n", lib, strings.Join(sonames[lib], " or "))
	for _, t := range f.Tried[lib] {
		b.WriteString("    " + t + "\n")
	}
	if len(why) > 0 {
		b.WriteString("   found but failed to load:\n" + strings.Join(why, "\n"))
	} else {
		b.WriteString("   none of these exists")
	}
	return 0, "", fmt.Errorf("%s", strings.TrimRight(b.String(), "\n"))
}

// Close unloads the libraries. Functions bound from them must not be called after.
func (l *Libraries) Close() {
	for i := len(l.handles) - 1; i >= 0; i-- {
		if l.handles[i] != 0 {
			_ = purego.Dlclose(l.handles[i])
			l.handles[i] = 0
		}
	}
}

// bind resolves every symbol of every binding table. Missing symbols are
// collected, not fatal here: CheckSymbols reports them all at once.
func (l *Libraries) bind() {
	if l.bound {
		return
	}
	l.bound = true
	tables := []struct {
		lib Lib
		ptr any
	}{
		{LibDriver, &l.drv}, {LibCublas, &l.blas}, {LibCudnn, &l.dnn}, {LibNvrtc, &l.rtc},
	}
	for _, t := range tables {
		v := reflect.ValueOf(t.ptr).Elem()
		for i := 0; i < v.NumField(); i++ {
			sym := v.Type().Field(i).Tag.Get("sym")
			if sym == "" {
				continue
			}
			if !l.bindOne(l.handles[t.lib], sym, v.Field(i).Addr().Interface()) {
				l.errors = append(l.errors, fmt.Sprintf("%s: %s (in %s)", t.lib, sym, l.Paths[t.lib]))
			}
		}
	}
}

// bindOne binds fptr to the first of the '|'-separated names that resolves.
func (l *Libraries) bindOne(h uintptr, sym string, fptr any) bool {
	for _, name := range strings.Split(sym, "|") {
		if p, err := purego.Dlsym(h, name); err == nil && p != 0 {
			purego.RegisterFunc(fptr, p)
			return true
		}
	}
	return false
}

// CheckSymbols resolves every bound symbol and returns an error listing each
// one missing, or nil when all are present.
func (l *Libraries) CheckSymbols() error {
	l.bind()
	if len(l.errors) > 0 {
		return fmt.Errorf("cuda: %d bound symbol(s) missing:\n  %s", len(l.errors), strings.Join(l.errors, "\n  "))
	}
	return nil
}

// CheckSymbols finds and loads the libraries with the default search and
// resolves every bound symbol, returning an error that lists any missing one.
func CheckSymbols() error {
	l, err := OpenLibraries(Find(FindOptions{}))
	if err != nil {
		return err
	}
	return l.CheckSymbols()
}

// BoundSymbols lists, for each library, every symbol name the backend binds
// (alternatives separated by '|', the preferred first). It needs no library.
func BoundSymbols() map[Lib][]string {
	out := map[Lib][]string{}
	tables := []struct {
		lib Lib
		t   reflect.Type
	}{
		{LibDriver, reflect.TypeOf(driverFuncs{})}, {LibCublas, reflect.TypeOf(cublasFuncs{})},
		{LibCudnn, reflect.TypeOf(cudnnFuncs{})}, {LibNvrtc, reflect.TypeOf(nvrtcFuncs{})},
	}
	for _, t := range tables {
		for i := 0; i < t.t.NumField(); i++ {
			if s := t.t.Field(i).Tag.Get("sym"); s != "" {
				out[t.lib] = append(out[t.lib], s)
			}
		}
	}
	return out
}
