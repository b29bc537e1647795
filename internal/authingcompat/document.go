package authingcompat

import (
	"errors"
	"fmt"
	"strings"
)

// document is what the limits of limits.go need of a GraphQL document:
// the selection trees of its operations and fragments. The engine's own
// parser is internal to it, so this small one reads the executable
// grammar (operations, fragments, fields with aliases, arguments and
// directives, spreads, inline fragments, values of every kind) and keeps
// only the shape of the selections. It never decides that a document is
// valid: a document it cannot read is checked by the engine, and refused
// if the engine would accept it (limits.go), so the two readers can never
// disagree in the attacker's favour.
type document struct {
	ops   [][]selection
	frags map[string][]selection
}

// selection is a field (name, with its sub-selections), a fragment spread
// (spread) or an inline fragment (neither, with its selections).
type selection struct {
	name   string
	spread string
	sels   []selection
}

// maxNesting bounds the recursion of the reader (selection sets, lists,
// objects, list types): far above the depth limit, far below the stack.
const maxNesting = 128

var errSyntax = errors.New("document syntax")

type docReader struct {
	src   string
	pos   int
	tok   string // the current token: a punctuator, a name, or "" for a value token or the end
	kind  byte   // 'p' punctuator, 'n' name, 'v' number or string, 0 end
	depth int
}

// parseDocument reads src; a document it cannot read is errSyntax.
func parseDocument(src string) (d *document, err error) {
	r := &docReader{src: src}
	defer func() {
		if v := recover(); v != nil {
			if v != errSyntax {
				panic(v)
			}
			d, err = nil, errSyntax
		}
	}()
	d = &document{frags: map[string][]selection{}}
	r.next()
	if r.kind == 0 {
		r.fail()
	}
	for r.kind != 0 {
		switch {
		case r.is('p', "{"):
			d.ops = append(d.ops, r.selectionSet())
		case r.is('n', "query"), r.is('n', "mutation"), r.is('n', "subscription"):
			r.next()
			if r.kind == 'n' {
				r.next()
			}
			if r.is('p', "(") {
				r.variableDefinitions()
			}
			r.directives()
			d.ops = append(d.ops, r.selectionSet())
		case r.is('n', "fragment"):
			r.next()
			name := r.name()
			if name == "on" {
				r.fail()
			}
			r.expectName("on")
			r.name()
			r.directives()
			if _, dup := d.frags[name]; dup {
				r.fail() // the engine refuses it too; one name, one tree
			}
			d.frags[name] = r.selectionSet()
		default:
			r.fail()
		}
	}
	return d, nil
}

func (r *docReader) fail() { panic(errSyntax) }

func (r *docReader) is(kind byte, tok string) bool { return r.kind == kind && r.tok == tok }

func (r *docReader) expect(p string) {
	if !r.is('p', p) {
		r.fail()
	}
	r.next()
}

func (r *docReader) expectName(n string) {
	if !r.is('n', n) {
		r.fail()
	}
	r.next()
}

func (r *docReader) name() string {
	if r.kind != 'n' {
		r.fail()
	}
	n := r.tok
	r.next()
	return n
}

func (r *docReader) enter() {
	r.depth++
	if r.depth > maxNesting {
		r.fail()
	}
}

func (r *docReader) leave() { r.depth-- }

func (r *docReader) selectionSet() []selection {
	r.enter()
	defer r.leave()
	r.expect("{")
	var out []selection
	for !r.is('p', "}") {
		out = append(out, r.selection())
	}
	if len(out) == 0 {
		r.fail()
	}
	r.next()
	return out
}

func (r *docReader) selection() selection {
	if r.is('p', "...") {
		r.next()
		if r.kind == 'n' && r.tok != "on" {
			s := selection{spread: r.name()}
			r.directives()
			return s
		}
		if r.is('n', "on") {
			r.next()
			r.name()
		}
		r.directives()
		return selection{sels: r.selectionSet()}
	}
	s := selection{name: r.name()}
	if r.is('p', ":") {
		r.next()
		s.name = r.name()
	}
	if r.is('p', "(") {
		r.arguments()
	}
	r.directives()
	if r.is('p', "{") {
		s.sels = r.selectionSet()
	}
	return s
}

func (r *docReader) arguments() {
	r.expect("(")
	if r.is('p', ")") {
		r.fail()
	}
	for !r.is('p', ")") {
		r.name()
		r.expect(":")
		r.value()
	}
	r.next()
}

func (r *docReader) directives() {
	for r.is('p', "@") {
		r.next()
		r.name()
		if r.is('p', "(") {
			r.arguments()
		}
	}
}

func (r *docReader) variableDefinitions() {
	r.expect("(")
	if r.is('p', ")") {
		r.fail()
	}
	for !r.is('p', ")") {
		r.expect("$")
		r.name()
		r.expect(":")
		r.typeRef()
		if r.is('p', "=") {
			r.next()
			r.value()
		}
		r.directives()
	}
	r.next()
}

func (r *docReader) typeRef() {
	r.enter()
	defer r.leave()
	if r.is('p', "[") {
		r.next()
		r.typeRef()
		r.expect("]")
	} else {
		r.name()
	}
	if r.is('p', "!") {
		r.next()
	}
}

func (r *docReader) value() {
	r.enter()
	defer r.leave()
	switch {
	case r.is('p', "$"):
		r.next()
		r.name()
	case r.kind == 'v', r.kind == 'n':
		r.next()
	case r.is('p', "["):
		r.next()
		for !r.is('p', "]") {
			r.value()
		}
		r.next()
	case r.is('p', "{"):
		r.next()
		for !r.is('p', "}") {
			r.name()
			r.expect(":")
			r.value()
		}
		r.next()
	default:
		r.fail()
	}
}

// next reads the next token, skipping the ignored ones (white space,
// commas, comments, a byte order mark).
func (r *docReader) next() {
	s := r.src
	for r.pos < len(s) {
		c := s[r.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',':
			r.pos++
			continue
		case c == '#':
			for r.pos < len(s) && s[r.pos] != '\n' && s[r.pos] != '\r' {
				r.pos++
			}
			continue
		case len(s)-r.pos >= 3 && s[r.pos:r.pos+3] == "\uFEFF":
			r.pos += 3
			continue
		}
		break
	}
	if r.pos >= len(s) {
		r.tok, r.kind = "", 0
		return
	}
	start := r.pos
	c := s[r.pos]
	switch {
	case c == '.':
		if len(s)-r.pos < 3 || s[r.pos:r.pos+3] != "..." {
			r.fail()
		}
		r.pos += 3
		r.tok, r.kind = "...", 'p'
	case c == '!' || c == '$' || c == '&' || c == '(' || c == ')' || c == ':' || c == '=' || c == '@' ||
		c == '[' || c == ']' || c == '{' || c == '|' || c == '}':
		r.pos++
		r.tok, r.kind = s[start:r.pos], 'p'
	case c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
		for r.pos < len(s) && isNameByte(s[r.pos]) {
			r.pos++
		}
		r.tok, r.kind = s[start:r.pos], 'n'
	case c == '-' || c >= '0' && c <= '9':
		r.number()
		r.tok, r.kind = "", 'v'
	case c == '"':
		r.str()
		r.tok, r.kind = "", 'v'
	default:
		r.fail()
	}
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

func (r *docReader) number() {
	s := r.src
	if s[r.pos] == '-' {
		r.pos++
	}
	digits := func() {
		n := r.pos
		for r.pos < len(s) && s[r.pos] >= '0' && s[r.pos] <= '9' {
			r.pos++
		}
		if r.pos == n {
			r.fail()
		}
	}
	digits()
	if r.pos < len(s) && s[r.pos] == '.' {
		r.pos++
		digits()
	}
	if r.pos < len(s) && (s[r.pos] == 'e' || s[r.pos] == 'E') {
		r.pos++
		if r.pos < len(s) && (s[r.pos] == '+' || s[r.pos] == '-') {
			r.pos++
		}
		digits()
	}
	if r.pos < len(s) && (isNameByte(s[r.pos]) || s[r.pos] == '.') {
		r.fail()
	}
}

// str skips a string or block string, where the engine's lexer does: a
// reader that ends them elsewhere sees string content where the engine
// runs selections (docs/SECURITY.md, "GraphQL limits"). What they hold
// does not matter here.
//
// The engine (graph-gophers/graphql-go v1.11.0, internal/common/lexer.go,
// consumeTripleQuoteComment) ends a block string at the first """ whatever
// precedes it: it knows no \""" escape, which the GraphQL spec has. Its own
// escape rewriter (internal/common/norm), run first when the document
// holds \u, does read \""" as an escape. So a block string whose end is
// preceded by a backslash is read three ways; it is refused here (and
// then by limits.go, if the engine would accept the document), as is a
// block string left open, which the engine reads to the end of the
// document. A regular string ends at the first " not escaped by a
// backslash, as in text/scanner; a backslash before anything but one of
// GraphQL's escapes is refused.
func (r *docReader) str() {
	s := r.src
	if len(s)-r.pos >= 3 && s[r.pos:r.pos+3] == `"""` {
		r.pos += 3
		end := strings.Index(s[r.pos:], `"""`)
		if end < 0 || end > 0 && s[r.pos+end-1] == '\\' {
			r.fail()
		}
		r.pos += end + 3
		return
	}
	r.pos++
	for r.pos < len(s) {
		switch s[r.pos] {
		case '"':
			r.pos++
			return
		case '\\':
			// GraphQL's escapes only (\u{...} and \uXXXX go on as plain
			// text). The engine hands Go's escapes (\x41, \101, \U...) to
			// strconv.Unquote, which panics on some (\700).
			if r.pos+1 >= len(s) || !strings.ContainsRune(`"\/bfnrtu`, rune(s[r.pos+1])) {
				r.fail()
			}
			r.pos += 2
		case '\n', '\r':
			r.fail()
		default:
			r.pos++
		}
	}
	r.fail()
}

// String is for test failures.
func (s selection) String() string {
	switch {
	case s.spread != "":
		return "..." + s.spread
	case s.name == "":
		return fmt.Sprintf("... %v", s.sels)
	}
	return fmt.Sprintf("%s%v", s.name, s.sels)
}
