package trace

// ExpireCatalogue makes the loaded catalogue copy look older than its TTL
// and returns a func reporting whether a newer copy has been loaded since.
func ExpireCatalogue(s *Service) (reloaded func() bool) {
	old := s.cat.cur.Load()
	expired := *old
	expired.loaded = old.loaded.Add(-2 * catalogueTTL)
	s.cat.cur.Store(&expired)
	return func() bool { return s.cat.cur.Load() != &expired }
}
