package streams

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// Checkpoints keeps, across restarts, the last record of each shard the
// handler succeeded on, as Lambda's event source mapping does: a poller
// given them reads on after that record instead of from StartingPosition,
// so a restart does not hand the whole stream to the handler again.
type Checkpoints interface {
	// Load returns the last handled sequence number of each shard of
	// stream (shard id to number); none is no error.
	Load(stream string) (map[string]string, error)
	// Save records seq as the last handled record of shard.
	Save(stream, shard, seq string) error
}

// FileCheckpoints keeps checkpoints in a JSON file, rewritten whole (to a
// temporary file, then renamed) at each Save. It holds one stream: a Load
// for another stream — a table made anew — finds nothing, and the next Save
// forgets the old stream.
type FileCheckpoints struct {
	path string
	mu   sync.Mutex
	file checkpointFile // as last loaded or saved
}

type checkpointFile struct {
	Stream string            `json:"stream"`
	Shards map[string]string `json:"shards"`
}

// NewFileCheckpoints keeps checkpoints in path.
func NewFileCheckpoints(path string) *FileCheckpoints { return &FileCheckpoints{path: path} }

// Load implements Checkpoints. A file that does not parse is an error, so
// that the poller says so rather than reading everything again unasked.
func (c *FileCheckpoints) Load(stream string) (map[string]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	raw, err := os.ReadFile(c.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var f checkpointFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("stream checkpoints %s: %w (delete the file to read the stream from its start)", c.path, err)
	}
	c.file = f
	if f.Stream != stream {
		return nil, nil
	}
	out := make(map[string]string, len(f.Shards))
	for id, seq := range f.Shards {
		out[id] = seq
	}
	return out, nil
}

// Save implements Checkpoints.
func (c *FileCheckpoints) Save(stream, shard, seq string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.file.Stream != stream || c.file.Shards == nil {
		c.file = checkpointFile{Stream: stream, Shards: map[string]string{}}
	}
	c.file.Shards[shard] = seq
	raw, err := json.MarshalIndent(c.file, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.path), filepath.Base(c.path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // gone after the rename; left only by a failure
	if _, err := tmp.Write(append(raw, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), c.path)
}
