package sqlstore

import (
	"os"

	"golang.org/x/sys/unix"
)

// shmDMS is the byte of a SQLite -shm file that every connection using the
// database keeps a read lock on for as long as it is open (UNIX_SHM_DMS in
// SQLite's os_unix.c).
const shmDMS = 128

// inUse reports whether some connection, in this process or another, has
// the SQLite database at path open. It asks about an open-file-description
// lock, which conflicts with SQLite's record locks even when they are this
// process's own.
func inUse(path string) bool {
	f, err := os.Open(path + "-shm")
	if err != nil {
		return false
	}
	defer f.Close()
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: shmDMS, Len: 1}
	if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_GETLK, &lk); err != nil {
		return false
	}
	return lk.Type != unix.F_UNLCK
}
