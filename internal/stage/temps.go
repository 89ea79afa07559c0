package stage

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// tempName matches the temporary files of the project's atomic writes
// (".NAME.tmp-123456", os.CreateTemp's suffix) and the search's older
// rename-into-place weights ("net-00081.bin.tmp").
var tempName = regexp.MustCompile(`^(\..+\.tmp-[0-9]+|net-[0-9]+\.bin\.tmp)$`)

// RemoveTemps removes the temporary files a killed write left in dir and,
// when recursive, below it; skip, if not nil, keeps the names it accepts
// (files another process may be writing). It is called when a stage
// starts, on the folders that stage alone writes; a missing dir is not an
// error. It returns the paths removed.
func RemoveTemps(dir string, recursive bool, skip func(name string) bool) ([]string, error) {
	var removed []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir && os.IsNotExist(err) {
				return filepath.SkipDir
			}
			return err
		}
		if d.IsDir() {
			if path != dir && !recursive {
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		if !tempName.MatchString(name) || (skip != nil && skip(name)) {
			return nil
		}
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			return err
		}
		removed = append(removed, path)
		return nil
	})
	return removed, err
}

// IsRunJSONTemp accepts the temporary files of run.json, which any job of a
// run may be writing (RemoveTemps' skip for shared run folders).
func IsRunJSONTemp(name string) bool { return strings.HasPrefix(name, ".run.json.tmp-") }
