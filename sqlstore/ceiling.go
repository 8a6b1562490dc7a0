package sqlstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// InsertCeiling measures the fastest this database takes moments: plain
// batched INSERTs, one transaction per batch, into a scratch table with the
// moments table's columns, indexes and references, through the statement
// Rapport itself inserts moments with, and none of what follows from a
// moment. It asks batch(i) for the i-th batch until the time is up or
// batch returns none, drops
// the table, and reports the rows stored and the time they took. The
// moments are valid, with ids, and refer to stored customers and touchpoints.
//
// It is the ceiling `rapport load` sets recording batches beside.
func (db *DB) InsertCeiling(ctx context.Context, batch func(i int) []*rapport.Moment, until time.Duration) (rows int, took time.Duration, err error) {
	var b [4]byte
	rand.Read(b[:])
	table := "ceiling_moments_" + hex.EncodeToString(b[:])
	if err := db.copyMomentsTable(ctx, table); err != nil {
		return 0, 0, fmt.Errorf("copy the moments table: %w", err)
	}
	defer db.write.ExecContext(context.WithoutCancel(ctx), `DROP TABLE `+table)
	start := time.Now()
	for i := 0; time.Since(start) < until; i++ {
		ms := batch(i)
		if len(ms) == 0 {
			break
		}
		err := db.inTx(ctx, func(tx *tx) error {
			for s := 0; s < len(ms); s += insertChunk {
				if err := insertMomentsInto(ctx, tx, table, ms[s:min(s+insertChunk, len(ms))]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return rows, time.Since(start), err
		}
		rows += len(ms)
	}
	return rows, time.Since(start), nil
}

// copyMomentsTable creates an empty table with the moments table's columns,
// indexes and references.
func (db *DB) copyMomentsTable(ctx context.Context, table string) error {
	var ddl []string
	if db.dialect.name == "postgres" {
		ddl = append(ddl, `CREATE TABLE `+table+` (LIKE moments INCLUDING ALL)`)
		rows, err := db.read.QueryContext(ctx, `SELECT pg_get_constraintdef(oid) FROM pg_constraint
			WHERE conrelid = 'moments'::regclass AND contype = 'f'`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var def string
			if err := rows.Scan(&def); err != nil {
				return err
			}
			ddl = append(ddl, `ALTER TABLE `+table+` ADD `+def)
		}
		if err := rows.Err(); err != nil {
			return err
		}
	} else {
		rows, err := db.read.QueryContext(ctx, `SELECT type, name, sql FROM sqlite_master
			WHERE tbl_name = 'moments' AND sql IS NOT NULL ORDER BY type = 'index', name`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var kind, name, sql string
			if err := rows.Scan(&kind, &name, &sql); err != nil {
				return err
			}
			if kind == "table" {
				ddl = append(ddl, strings.Replace(sql, "moments", table, 1))
			} else {
				sql = strings.Replace(sql, name, table+"_"+strings.TrimPrefix(name, "moments_"), 1)
				ddl = append(ddl, strings.Replace(sql, " ON moments ", " ON "+table+" ", 1))
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	for _, s := range ddl {
		if _, err := db.write.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}
