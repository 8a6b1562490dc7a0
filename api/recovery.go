package api

// recoveryRoutes are recovery cases, promises, surveys and the handover brief.
func (s *Server) recoveryRoutes() []route {
	return nil
}
