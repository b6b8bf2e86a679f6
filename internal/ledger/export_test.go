package ledger

import (
	"context"
	"encoding/hex"
)

// SetSyncChunk makes sync read n leaves a statement until the returned
// function restores it.
func SetSyncChunk(n int) func() {
	old := syncChunk
	syncChunk = n
	return func() { syncChunk = old }
}

// SyncedRoot brings the tree up to the committed leaves and returns its
// size and root (hex).
func (s *Service) SyncedRoot(ctx context.Context) (uint64, string, error) {
	size, err := s.sync(ctx)
	if err != nil {
		return 0, "", err
	}
	root, err := s.tree.Root(size)
	if err != nil {
		return 0, "", err
	}
	return size, hex.EncodeToString(root[:]), nil
}
