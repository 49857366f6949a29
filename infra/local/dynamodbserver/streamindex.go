package dynamodbserver

import (
	"context"
	"database/sql"
	"fmt"

	_ "modernc.org/sqlite" // the SQLite driver, pure Go
)

// streamIndexes are the indexes dynoxide 1.2.1's stream bookkeeping lacks.
// Each write to a table with a stream numbers its stream record with
//
//	SELECT COALESCE(MAX(CAST(sequence_number AS INTEGER)), 0) + 1
//	FROM _stream_records WHERE table_name = ?1
//
// and GetRecords filters and orders on the same expression; DescribeStream
// asks for MIN and MAX(sequence_number) of a shard. With no index each of
// these reads every stream record the server has ever written — it never
// trims them — so every write costs time in proportion to all history. The
// first index lets SQLite answer the first two from the index's end; the
// second lets DescribeStream read small index entries instead of whole
// records. Neither changes an answer, and SQLite keeps them up to date
// like any other index.
var streamIndexes = []string{
	`CREATE INDEX IF NOT EXISTS rapport_stream_records_sequence
		ON _stream_records (table_name, CAST(sequence_number AS INTEGER))`,
	`CREATE INDEX IF NOT EXISTS rapport_stream_records_shard
		ON _stream_records (table_name, shard_id, sequence_number)`,
}

// IndexStreamRecords adds streamIndexes to the database file of a dynoxide
// that has opened it (so that dynoxide's own tables exist). SQLite lets a
// second process change the schema of a database in WAL mode, and dynoxide
// re-prepares its statements when it sees the change. Building the indexes
// over a long history takes a moment, once; later calls find them.
func IndexStreamRecords(ctx context.Context, dbPath string) error {
	db, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("open %s: %w", dbPath, err)
	}
	defer db.Close()
	for _, q := range streamIndexes {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("index dynoxide's stream records in %s: %w", dbPath, err)
		}
	}
	return nil
}
