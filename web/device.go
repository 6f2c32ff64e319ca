package web

import (
	"net/http"

	"giving/campaigns/accounts"
)

// deviceCookieName holds a browser's device cookie: a random token handed out at each
// successful log-in (campaigns/lockout.go). A browser presenting it for its account is
// judged by its own failed log-ins only, so strangers' guesses cannot lock the owner out.
// It proves nothing by itself: the password is still checked.
const deviceCookieName = "giving_device"

func deviceCookie(r *http.Request) string {
	if c, err := r.Cookie(deviceCookieName); err == nil {
		return c.Value
	}
	return ""
}

// setDeviceCookie gives the browser its new device cookie; only POST /login reads it.
func (s *Server) setDeviceCookie(w http.ResponseWriter, token string) {
	if token == "" {
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: deviceCookieName, Value: token, Path: "/login",
		MaxAge:   int(accounts.DeviceLifetime.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: s.baseURL != nil && s.baseURL.Scheme == "https",
	})
}
