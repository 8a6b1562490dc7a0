package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/rapport-crm/rapport"
)

// On PostgreSQL an import job stores a chunk of moments with COPY, which
// sends the rows as one stream rather than as statements: into a
// temporary table of the transaction's connection, then into moments with
// one INSERT … SELECT that leaves out any whose id or external id is
// stored (ON CONFLICT DO NOTHING, so a row stored by someone else
// meanwhile is skipped rather than failing the chunk). What follows from
// the moments stored is then derived by the pipeline, as for any moments
// added.

// stagingMoments is the temporary table a chunk is copied into; its rows
// go when the transaction commits.
const stagingMoments = "import_moments"

// momentColumnList is momentColumns as a list, for COPY.
var momentColumnList = func() []string {
	cols := strings.Split(momentColumns, ",")
	for i, c := range cols {
		cols[i] = strings.TrimSpace(c)
	}
	return cols
}()

// copyNewMoments stores the moments not stored yet, and what follows from
// them, reporting which were stored. The transaction must have been begun
// with inConnTx on PostgreSQL. A moment whose external id appears earlier
// in ms is not stored.
func copyNewMoments(ctx context.Context, tx *tx, ms []*rapport.Moment) ([]bool, error) {
	created := make([]bool, len(ms))
	if len(ms) == 0 {
		return created, nil
	}
	if tx.conn == nil {
		return nil, errors.New("copy moments: the transaction has no connection of its own")
	}
	recordedAt := tx.now.Truncate(time.Microsecond)
	seen := map[string]bool{}
	rows := make([][]any, 0, len(ms))
	for _, m := range ms {
		if m.ExternalID != "" {
			if seen[m.ExternalID] {
				continue
			}
			seen[m.ExternalID] = true
		}
		m.ID, m.RecordedAt = rapport.NewID(tx.now), recordedAt
		rows = append(rows, momentValues(m))
	}
	if _, err := tx.exec(ctx, `CREATE TEMPORARY TABLE IF NOT EXISTS `+stagingMoments+` (LIKE moments) ON COMMIT DELETE ROWS`); err != nil {
		return nil, fmt.Errorf("make the staging table: %w", err)
	}
	err := tx.conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("copy moments: the connection is %T, not PostgreSQL's", driverConn)
		}
		_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{stagingMoments}, momentColumnList, pgx.CopyFromRows(rows))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("copy moments: %w", err)
	}
	stored := make(map[string]bool, len(rows))
	err = eachRow(ctx, tx.querier, `INSERT INTO moments (`+momentColumns+`) SELECT `+momentColumns+` FROM `+stagingMoments+`
		ON CONFLICT DO NOTHING RETURNING id`, nil, func(rs *sql.Rows) error {
		var id string
		err := rs.Scan(&id)
		stored[id] = true
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("move moments from staging: %w", err)
	}
	added := make([]*rapport.Moment, 0, len(stored))
	for i, m := range ms {
		if m.ID != "" && stored[m.ID] {
			created[i] = true
			added = append(added, m)
		}
	}
	return created, applyMomentChange(ctx, tx, momentChange{source: rapport.SourceImport, added: added})
}
