package mail

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// Message writes an email as the mail server receives it: headers, then a
// multipart/alternative body with the plain-text part first and the HTML
// part second, each quoted-printable in UTF-8. An email with a line break in
// a header is refused, so that no text can add headers of its own.
func Message(from *mail.Address, e rapport.Email, now time.Time) ([]byte, error) {
	to, err := mail.ParseAddress(e.To)
	if err != nil {
		return nil, fmt.Errorf("the address %q is not valid", e.To)
	}
	if strings.ContainsAny(e.Subject+e.Unsubscribe+e.ID, "\r\n") {
		return nil, errors.New("an email header may not hold a line break")
	}
	var buf bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&buf, "%s: %s\r\n", k, v) }
	header("From", from.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", e.Subject))
	header("Date", now.Format(time.RFC1123Z))
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	header("Message-ID", "<"+e.ID+"@"+domain+">")
	header("MIME-Version", "1.0")
	if e.Unsubscribe != "" {
		header("List-Unsubscribe", "<"+e.Unsubscribe+">")
		header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	}
	w := multipart.NewWriter(&buf)
	header("Content-Type", `multipart/alternative; boundary="`+w.Boundary()+`"`)
	buf.WriteString("\r\n")
	for _, part := range []struct{ kind, body string }{{"text/plain", e.Text}, {"text/html", e.HTML}} {
		pw, err := w.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.kind + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(pw)
		if _, err := qp.Write([]byte(strings.ReplaceAll(part.body, "\n", "\r\n"))); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
