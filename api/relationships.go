package api

// relationshipRoutes are stages, health and risk, holdings, referrals,
// segments and outcomes.
func (s *Server) relationshipRoutes() []route {
	return nil
}
