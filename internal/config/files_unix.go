//go:build unix

package config

import (
	"io/fs"
	"os"
	"syscall"
)

// ownGroup reports whether a file belongs to the process's own group.
func ownGroup(info fs.FileInfo) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	return ok && int(st.Gid) == os.Getegid()
}
