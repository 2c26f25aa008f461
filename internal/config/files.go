package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// ReadKeyFile reads a file of key material named by setting (secret_file,
// public_key_file, keys[0].secret_file, …). It refuses a file every user
// may write — whoever can write a key file chooses which tokens pass — and,
// for secrets, returns a warning when users other than its owner, or than
// the process's own group, may read it. A group-writable file passes: volumes are often mounted writable by
// a deployment's group.
// The mode checked is the target's, so that symbolic links, which
// Kubernetes mounts secrets as, are judged by what they point to. Errors
// name the setting, never the path, which is a value.
func ReadKeyFile(setting, path string, secret bool) (data []byte, warning string, err error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %s", setting, ErrorText(err))
	}
	if !info.Mode().IsRegular() {
		return nil, "", fmt.Errorf("%s: not a regular file", setting)
	}
	perm := info.Mode().Perm()
	if perm&0o002 != 0 {
		return nil, "", fmt.Errorf("%s: the file is writable by every user; make it writable by its owner only (chmod o-w)", setting)
	}
	if secret && exposed(perm, ownGroup(info)) {
		warning = fmt.Sprintf("%s: the file is readable by other users (mode %04o); 0400 or 0600 keeps the secret to its owner", setting, perm)
	}
	data, err = os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %s", setting, ErrorText(err))
	}
	return data, warning, nil
}

// exposed reports whether a secret file of mode perm is readable by users
// other than its owner. Readable by its group is fine when that group is
// the process's own: Kubernetes mounts secrets 0440 to the pod's fsGroup,
// whatever defaultMode says.
func exposed(perm fs.FileMode, ownGroup bool) bool {
	return perm&0o004 != 0 || perm&0o040 != 0 && !ownGroup
}

// libraryPrefixes are the prefixes the project's libraries put on their
// error messages, which a problem that names its setting does not need.
var libraryPrefixes = []string{"approov: ", "assertion: ", "msgsig: ", "approovtest: "}

// ErrorText returns err's message as a configuration problem shows it:
// without the prefix of the library that made it, and, for a file error,
// without the path, which the problem names by its setting instead.
func ErrorText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	msg := err.Error()
	for _, p := range libraryPrefixes {
		if rest, ok := strings.CutPrefix(msg, p); ok {
			return rest
		}
	}
	return msg
}
