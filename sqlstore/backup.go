package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrPostgresBackup is returned for a PostgreSQL database, which is backed
// up with its own tools.
var ErrPostgresBackup = errors.New("a PostgreSQL database is backed up and restored with PostgreSQL's own tools: " +
	"pg_dump --format=custom --file=rapport.dump URL, and with the servers stopped, pg_restore --clean --if-exists --no-owner --dbname=URL rapport.dump (see docs/operations.md)")

// BackupInfo describes a backup file that passed its checks.
type BackupInfo struct {
	// Migration is the newest migration the backup's schema has, e.g.
	// "0013_erasure.sql".
	Migration string
	Customers int64
	Moments   int64
}

// Backup writes a consistent copy of the SQLite database named by dsn to
// dest while the database may be serving writes: VACUUM INTO reads one
// snapshot in a read transaction, so writers carry on (in WAL mode they
// never wait for a reader) and the copy holds exactly the transactions
// committed before it began. The copy is written beside dest and renamed
// into place once it is on disk, so dest is never half a backup. An
// existing dest is replaced only when overwrite is set.
func Backup(ctx context.Context, dsn, dest string, overwrite bool) error {
	if isPostgres(dsn) {
		return ErrPostgresBackup
	}
	src := strings.TrimPrefix(dsn, "sqlite:")
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("no database to back up at %s", src)
	}
	if !overwrite {
		if _, err := os.Stat(dest); err == nil {
			return fmt.Errorf("%s exists already; choose another file or use --force to replace it", dest)
		}
	}
	tmp, err := tempBeside(dest)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	// The temporary file must not exist for VACUUM INTO, which refuses to
	// write over one; its random name keeps it from clashing.
	if err := os.Remove(tmp); err != nil {
		return err
	}
	conn, err := sql.Open("sqlite", "file:"+src+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		return fmt.Errorf("back up %s: %w", src, err)
	}
	// A backup holds personal data: readable by its owner alone.
	if err := os.Chmod(tmp, 0o600); err != nil {
		return err
	}
	if err := syncFile(tmp); err != nil {
		return err
	}
	if overwrite {
		err = os.Rename(tmp, dest)
	} else {
		// A hard link fails if dest appeared meanwhile, where a rename would
		// replace it.
		err = os.Link(tmp, dest)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", dest, err)
	}
	return syncDir(filepath.Dir(dest))
}

// CheckBackup opens a backup read-only and checks that SQLite finds it whole
// (PRAGMA integrity_check) and that its schema is one this build of Rapport
// knows: every migration it records is one of ours, none newer. An older
// backup is fine; the server brings it up to date when it opens it.
func CheckBackup(ctx context.Context, file string) (BackupInfo, error) {
	var info BackupInfo
	st, err := os.Stat(file)
	if err != nil {
		return info, err
	}
	if !st.Mode().IsRegular() {
		return info, fmt.Errorf("%s is not a file", file)
	}
	// immutable: the file is read as it is, with no locks taken and no
	// -wal or -shm file made beside it.
	conn, err := sql.Open("sqlite", "file:"+file+"?mode=ro&immutable=1")
	if err != nil {
		return info, err
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	rows, err := conn.QueryContext(ctx, `PRAGMA integrity_check(10)`)
	if err != nil {
		return info, fmt.Errorf("%s is not a readable SQLite database: %w", file, err)
	}
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return info, err
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return info, fmt.Errorf("%s is damaged: %w", file, err)
	}
	if len(problems) > 0 {
		return info, fmt.Errorf("%s is damaged: %s", file, strings.Join(problems, "; "))
	}
	if info.Migration, err = checkMigrations(ctx, conn, file); err != nil {
		return info, err
	}
	err = conn.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM customers), (SELECT COUNT(*) FROM moments)`).
		Scan(&info.Customers, &info.Moments)
	if err != nil {
		return info, fmt.Errorf("%s: %w", file, err)
	}
	return info, nil
}

// checkMigrations returns the newest migration a backup records, or an
// error when it records one this build does not have.
func checkMigrations(ctx context.Context, conn *sql.DB, file string) (string, error) {
	known := map[int]string{}
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return "", err
	}
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		v, _ := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		known[v] = base
	}
	rows, err := conn.QueryContext(ctx, `SELECT version, name FROM schema_migrations ORDER BY version`)
	if err != nil {
		return "", fmt.Errorf("%s is not a Rapport database: it has no schema_migrations table", file)
	}
	defer rows.Close()
	newest := ""
	for rows.Next() {
		var v int
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			return "", err
		}
		if known[v] != name {
			return "", fmt.Errorf("%s was made by a newer or different Rapport: its migration %s is unknown to this version; restore it with the Rapport that made it", file, name)
		}
		newest = name
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	if newest == "" {
		return "", fmt.Errorf("%s is not a Rapport database: it records no migrations", file)
	}
	return newest, nil
}

// Restore checks a backup with CheckBackup and puts it in place of the
// SQLite database at target. The copy is written beside target, synced,
// and renamed over it, so target is at every moment the old database or
// the new one. An existing target is replaced only when overwrite is set,
// and never while a server has it open.
func Restore(ctx context.Context, file, target string, overwrite bool) (BackupInfo, error) {
	if isPostgres(target) {
		return BackupInfo{}, ErrPostgresBackup
	}
	target = strings.TrimPrefix(target, "sqlite:")
	info, err := CheckBackup(ctx, file)
	if err != nil {
		return info, err
	}
	if _, err := os.Stat(target); err == nil {
		if !overwrite {
			return info, fmt.Errorf("%s exists; stop the server that uses it, then run again with --force to replace it", target)
		}
		if inUse(target) {
			return info, fmt.Errorf("%s is open in a running Rapport server; stop the server first", target)
		}
	}
	tmp, err := tempBeside(target)
	if err != nil {
		return info, err
	}
	defer os.Remove(tmp)
	if err := copyFile(file, tmp); err != nil {
		return info, err
	}
	// The old database's write-ahead log belongs to it alone; left beside
	// the restored file, SQLite would try to apply it there.
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(target + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return info, err
		}
	}
	if err := os.Rename(tmp, target); err != nil {
		return info, err
	}
	return info, syncDir(filepath.Dir(target))
}

// tempBeside makes an empty temporary file in the directory of path, so
// that renaming it to path is atomic.
func tempBeside(path string) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.partial")
	if err != nil {
		return "", err
	}
	return f.Name(), f.Close()
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes a rename in dir survive a power cut.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}
