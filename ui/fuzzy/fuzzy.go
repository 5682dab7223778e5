// Package fuzzy scores how well a short typed pattern matches a name, the way fuzzy finders do:
// the pattern's characters must appear in order; runs and word starts score higher.
//
// It is small on purpose: the tree filter matches a few thousand strings per key press.
package fuzzy

import (
	"unicode"
	"unicode/utf8"
)

// Score reports whether every rune of pattern appears in text in order, ignoring case, and how
// good the match is (higher is better). An empty pattern matches everything with score 0.
// Each occurrence of the pattern's first rune is tried as a start, so "api" scores the
// "-api" suffix of "payments-api" rather than its first "a".
func Score(pattern, text string) (int, bool) {
	if pattern == "" {
		return 0, true
	}
	first, _ := utf8.DecodeRuneInString(pattern)
	first = unicode.ToLower(first)
	best, found := 0, false
	prev := rune(-1)
	for i, r := range text {
		if unicode.ToLower(r) == first {
			if s, ok := scoreFrom(pattern, text[i:], prev); ok && (!found || s > best) {
				best, found = s, true
			}
		}
		prev = r
	}
	return best, found
}

// scoreFrom matches pattern greedily from the start of text; prev is the rune before text.
func scoreFrom(pattern, text string, prev rune) (int, bool) {
	score, run := 0, 0
	pi := 0
	pr, psize := utf8.DecodeRuneInString(pattern)
	pr = unicode.ToLower(pr)
	for _, r := range text {
		if unicode.ToLower(r) == pr {
			score++
			if run > 0 {
				score += 3 * run // consecutive characters
			}
			if prev == -1 || isSeparator(prev) {
				score += 3 // start of a word: "pa" in "payments-api", "api" after "-"
			}
			run++
			pi += psize
			if pi >= len(pattern) {
				return score, true
			}
			pr, psize = utf8.DecodeRuneInString(pattern[pi:])
			pr = unicode.ToLower(pr)
		} else {
			run = 0
		}
		prev = r
	}
	return 0, false
}

// Best returns the highest score of pattern over texts, and whether any matched.
func Best(pattern string, texts ...string) (int, bool) {
	best, found := 0, false
	for _, t := range texts {
		if s, ok := Score(pattern, t); ok && (!found || s > best) {
			best, found = s, true
		}
	}
	return best, found
}

func isSeparator(r rune) bool {
	switch r {
	case '-', '_', '.', '/', ':', ' ', '@':
		return true
	}
	return false
}
