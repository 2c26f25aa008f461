package config

// suggest names the closest setting, for typos in the YAML file.
func suggest(name string) string {
	names := []string{"routes", "keys"}
	for _, s := range settings {
		names = append(names, s.name)
	}
	return suggestFrom(name, names)
}

// suggestFrom names the closest of names, for typos.
func suggestFrom(name string, names []string) string {
	if best := Nearest(name, names, 3); best != "" {
		return " (did you mean " + best + "?)"
	}
	return ""
}

// Nearest returns the one of names closest to name, within maxDist edits
// (insertions, deletions and substitutions of a byte), or "": the first in
// names of those closest. It finds the name a typo meant, for "did you
// mean" suggestions.
func Nearest(name string, names []string, maxDist int) string {
	best, bestDist := "", maxDist+1
	for _, n := range names {
		if d := editDistance(name, n); d < bestDist {
			best, bestDist = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b: the fewest
// insertions, deletions and substitutions of bytes that turn one into the
// other.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
