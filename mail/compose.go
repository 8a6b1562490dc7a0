package mail

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/rapport-crm/rapport"
)

// The wording of every email is in message catalogues, one JSON file per
// language under messages/ (en.json, es.json): a translator edits the
// sentences, each a small template naming the facts it shows ({{.Firm}},
// {{.Touchpoint}}, …), without touching code. A sentence missing from a
// language is taken from English. A firm may bring its own catalogues
// (Catalogues.Override) to change the wording.

//go:embed messages/*.json
var shipped embed.FS

// DefaultLanguage is the language of customers whose language is not known
// or not shipped.
const DefaultLanguage = "en"

// Catalogues are the messages of every language.
type Catalogues struct {
	// byLang are the sentences of each language by key, parsed once.
	byLang map[string]map[string]*texttemplate.Template
}

// LoadCatalogues reads the shipped catalogues and then, when override is
// not nil, the *.json files in it, whose sentences replace the shipped ones
// key by key.
func LoadCatalogues(override fs.FS) (*Catalogues, error) {
	c := &Catalogues{byLang: map[string]map[string]*texttemplate.Template{}}
	if err := c.load(shipped, "messages"); err != nil {
		return nil, err
	}
	if override != nil {
		if err := c.load(override, "."); err != nil {
			return nil, err
		}
	}
	if c.byLang[DefaultLanguage] == nil {
		return nil, fmt.Errorf("no %s catalogue", DefaultLanguage)
	}
	return c, nil
}

// MustCatalogues returns the shipped catalogues.
func MustCatalogues() *Catalogues {
	c, err := LoadCatalogues(nil)
	if err != nil {
		panic(err)
	}
	return c
}

func (c *Catalogues) load(fsys fs.FS, dir string) error {
	names, err := fs.Glob(fsys, path.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		var msgs map[string]string
		if err := json.Unmarshal(data, &msgs); err != nil {
			return fmt.Errorf("message catalogue %s: %w", name, err)
		}
		parsed := make(map[string]*texttemplate.Template, len(msgs))
		for k, v := range msgs {
			t, err := texttemplate.New(k).Parse(v)
			if err != nil {
				return fmt.Errorf("message catalogue %s, %q: %w", name, k, err)
			}
			parsed[k] = t
		}
		lang := strings.TrimSuffix(path.Base(name), ".json")
		if c.byLang[lang] == nil {
			c.byLang[lang] = map[string]*texttemplate.Template{}
		}
		for k, t := range parsed {
			c.byLang[lang][k] = t
		}
	}
	return nil
}

// Languages lists the languages that have a catalogue, in order.
func (c *Catalogues) Languages() []string {
	var out []string
	for l := range c.byLang {
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}

// Has reports whether lang has a catalogue.
func (c *Catalogues) Has(lang string) bool { return c.byLang[lang] != nil }

// Text returns the sentence key in lang, filled with data. It falls back to
// English, and to the key itself when even English lacks it.
func (c *Catalogues) Text(lang, key string, data any) string {
	t, ok := c.byLang[lang][key]
	if !ok {
		if t, ok = c.byLang[DefaultLanguage][key]; !ok {
			return key
		}
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return key
	}
	return buf.String()
}

// Date writes a day as lang writes it.
func (c *Catalogues) Date(lang string, t time.Time) string {
	return t.Format(c.Text(lang, "date", nil))
}

// Survey is what a survey invitation tells.
type Survey struct {
	Language    string
	Firm        string
	Name        string
	Touchpoint  string
	OccurredAt  time.Time
	ExpiresAt   time.Time
	URL         string
	Unsubscribe string
	Reminder    bool
}

// SurveyInvitation writes a survey invitation, or its reminder.
func (c *Catalogues) SurveyInvitation(s Survey) rapport.Email {
	lang := s.Language
	data := map[string]string{"Firm": s.Firm, "Name": s.Name, "Touchpoint": s.Touchpoint,
		"Date": c.Date(lang, s.OccurredAt), "Expires": c.Date(lang, s.ExpiresAt)}
	subject, body := "invitation.subject", "invitation.body"
	if s.Reminder {
		subject, body = "reminder.subject", "reminder.body"
	}
	v := emailView{
		Lang:        lang,
		Greeting:    c.Text(lang, "invitation.greeting", data),
		Paragraphs:  []string{c.Text(lang, body, data)},
		Button:      c.Text(lang, "invitation.button", data),
		URL:         s.URL,
		After:       []string{c.Text(lang, "invitation.expires", data)},
		Signature:   c.Text(lang, "invitation.signature", data),
		Unsubscribe: s.Unsubscribe,
		UnsubText:   c.Text(lang, "invitation.unsubscribe", data),
		UnsubLink:   c.Text(lang, "invitation.unsubscribe.link", data),
	}
	return v.email(c.Text(lang, subject, data))
}

// Notice is what a notification tells a member of staff: its kind, their
// name, the facts its sentences name (Customer, Touchpoint, Due, Text,
// Message, From; Rating, Reason and Comment add a line each when set) and
// the page it is about.
type Notice struct {
	Kind  string
	Name  string
	Facts map[string]any
	URL   string
}

// Notification writes a notification's title and body, for the list in the
// UI. Staff read Rapport in English.
func (c *Catalogues) Notification(n Notice) (title, body string) {
	facts := n.facts()
	title = strings.Join(strings.Fields(c.Text(DefaultLanguage, "notify."+n.Kind+".subject", facts)), " ")
	return title, c.Text(DefaultLanguage, "notify."+n.Kind+".body", facts)
}

// NotificationEmail writes a notification's email, for those who get it
// by email: its title and body as Notification writes them, a greeting,
// the details the facts hold and a button to the page.
func (c *Catalogues) NotificationEmail(n Notice, title, body string) rapport.Email {
	lang := DefaultLanguage
	facts := n.facts()
	v := emailView{Lang: lang, Greeting: c.Text(lang, "notify.greeting", facts), Paragraphs: []string{body},
		Button: c.Text(lang, "notify.button", facts), URL: n.URL, Signature: "Rapport"}
	for _, detail := range []string{"Rating", "Reason", "Comment"} {
		if x, ok := n.Facts[detail]; ok && x != "" && x != nil {
			v.Paragraphs = append(v.Paragraphs, c.Text(lang, "notify.detail."+strings.ToLower(detail), facts))
		}
	}
	return v.email(title)
}

// facts are the notice's facts with the person's name.
func (n Notice) facts() map[string]any {
	facts := make(map[string]any, len(n.Facts)+1)
	for k, v := range n.Facts {
		facts[k] = v
	}
	facts["Name"] = n.Name
	return facts
}

// emailView is every email's shape: a greeting, paragraphs, one button,
// a few lines after it, a signature and perhaps an unsubscribe line.
type emailView struct {
	Lang                              string
	Greeting                          string
	Paragraphs                        []string
	Button, URL                       string
	After                             []string
	Signature                         string
	Unsubscribe, UnsubText, UnsubLink string
	// Items are a digest's notifications, each with its link.
	Items []DigestItem
}

var textLayout = texttemplate.Must(texttemplate.New("text").Parse(`{{.Greeting}}
{{range .Paragraphs}}
{{.}}
{{end}}
{{- range .Items}}
- {{.Title}}
  {{.URL}}
{{end}}
{{.Button}}:
{{.URL}}
{{range .After}}
{{.}}
{{end}}
{{.Signature}}
{{- if .Unsubscribe}}

--
{{.UnsubText}}
{{.Unsubscribe}}
{{- end}}
`))

var htmlLayout = template.Must(template.New("html").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="margin:0;padding:24px;background:#f6f7f9;font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1d2430;line-height:1.5">
<div style="max-width:560px;margin:0 auto;background:#fff;border-radius:8px;padding:24px">
<p>{{.Greeting}}</p>
{{range .Paragraphs}}<p>{{.}}</p>
{{end}}{{if .Items}}<ul>{{range .Items}}<li><a href="{{.URL}}">{{.Title}}</a></li>{{end}}</ul>
{{end}}<p style="margin:24px 0"><a href="{{.URL}}" style="background:#2456c5;color:#fff;padding:12px 20px;border-radius:6px;text-decoration:none;display:inline-block">{{.Button}}</a></p>
{{range .After}}<p style="color:#5b6472;font-size:14px">{{.}}</p>
{{end}}<p>{{.Signature}}</p>
{{if .Unsubscribe}}<hr style="border:0;border-top:1px solid #e3e6eb">
<p style="color:#5b6472;font-size:13px">{{.UnsubText}} <a href="{{.Unsubscribe}}" style="color:#5b6472">{{.UnsubLink}}</a></p>
{{end}}</div>
</body></html>
`))

func (v emailView) email(subject string) rapport.Email {
	var text, html bytes.Buffer
	// The layouts are fixed and their data plain strings: they cannot fail.
	textLayout.Execute(&text, v)
	htmlLayout.Execute(&html, v)
	return rapport.Email{Subject: strings.Join(strings.Fields(subject), " "), Text: text.String(), HTML: html.String(),
		Unsubscribe: v.Unsubscribe}
}

// Page returns the sentences of the public survey pages ("page.*") in lang,
// filled with facts, by their name after "page.".
func (c *Catalogues) Page(lang string, facts map[string]any) map[string]string {
	out := map[string]string{}
	for key := range c.byLang[DefaultLanguage] {
		if name, ok := strings.CutPrefix(key, "page."); ok {
			out[name] = c.Text(lang, key, facts)
		}
	}
	return out
}

// Choose returns the language to speak to someone in: want when it has a
// catalogue, else the first language of an Accept-Language header that has
// one, else English.
func (c *Catalogues) Choose(want, acceptLanguage string) string {
	if c.Has(want) {
		return want
	}
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		primary, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if c.Has(primary) {
			return primary
		}
	}
	return DefaultLanguage
}

// DigestItem is one notification in a digest.
type DigestItem struct{ Title, URL string }

// Digest writes the day's notifications as one email to a member of staff.
func (c *Catalogues) Digest(name, listURL string, items []DigestItem) rapport.Email {
	lang := DefaultLanguage
	facts := map[string]any{"Name": name, "Count": len(items)}
	v := emailView{Lang: lang, Greeting: c.Text(lang, "notify.greeting", facts), Paragraphs: []string{c.Text(lang, "notify.digest.body", facts)},
		Button: c.Text(lang, "notify.digest.button", facts), URL: listURL, Signature: "Rapport"}
	v.Items = append(v.Items, items...)
	return v.email(c.Text(lang, "notify.digest.subject", facts))
}
