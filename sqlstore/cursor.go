package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rapport-crm/rapport"
)

// Cursors are opaque to clients: base64 of the sort key of the last row seen.

func encodeCursor(parts ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strings.Join(parts, "|")))
}

func decodeCursor(c string, n int) ([]string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	parts := strings.Split(string(b), "|")
	// A cursor made here holds text only: anything else was not made here,
	// and PostgreSQL would refuse to compare it.
	if err != nil || len(parts) != n || !utf8.Valid(b) || strings.ContainsRune(string(b), 0) {
		return nil, rapport.Errorf(rapport.EINVALID, "The cursor is not valid; use the next_cursor of a previous page.")
	}
	return parts, nil
}

// timeCursor pages through rows ordered by (time, id), newest first.
func timeCursor(t time.Time, id string) string {
	return encodeCursor(strconv.FormatInt(micros(t), 10), id)
}

func decodeTimeCursor(c string) (int64, string, error) {
	parts, err := decodeCursor(c, 2)
	if err != nil {
		return 0, "", err
	}
	us, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return 0, "", rapport.Errorf(rapport.EINVALID, "The cursor is not valid; use the next_cursor of a previous page.")
	}
	return us, parts[1], nil
}

// queryPage runs a query for one page of a list: the query ends in LIMIT ?,
// and limit+1 rows are asked for, so that one more row than the page holds
// tells that a next page exists. cursor makes the next page's cursor from the
// last item kept.
func queryPage[T any](ctx context.Context, q querier, query string, args []any, limit int,
	scan func(*sql.Rows) (T, error), cursor func(T) string) (rapport.Page[T], error) {
	page := rapport.Page[T]{Items: []T{}}
	rows, err := q.query(ctx, query, append(args, limit+1)...)
	if err != nil {
		return page, err
	}
	defer rows.Close()
	for rows.Next() {
		item, err := scan(rows)
		if err != nil {
			return page, err
		}
		page.Items = append(page.Items, item)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.NextCursor = cursor(page.Items[limit-1])
	}
	return page, rows.Err()
}

// whereEqual adds a condition col = value for each pair of cols (column,
// value, column, value, …) whose value is set.
func whereEqual(where []string, args []any, pairs ...string) ([]string, []any) {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			where, args = append(where, pairs[i]+" = ?"), append(args, pairs[i+1])
		}
	}
	return where, args
}

// whereWindow keeps the rows whose time column is at or after from and
// before to; a zero time leaves that side open.
func whereWindow(where []string, args []any, col string, from, to time.Time) ([]string, []any) {
	if !from.IsZero() {
		where, args = append(where, col+" >= ?"), append(args, micros(from))
	}
	if !to.IsZero() {
		where, args = append(where, col+" < ?"), append(args, micros(to))
	}
	return where, args
}
