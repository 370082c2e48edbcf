# Collapses a run of consecutive repeats of the same block of one to four
# lines into one copy, so how many times a loop went round does not count.
{ l[n++] = $0 }
END {
  changed = 1
  while (changed) {
    changed = 0
    for (k = 1; k <= 4; k++) {
      m = 0
      for (i = 0; i < n; ) {
        same = (i + 2 * k <= n)
        for (j = 0; same && j < k; j++) if (l[i + j] != l[i + k + j]) same = 0
        if (same) { for (j = 0; j < k; j++) o[m++] = l[i + j]; i += 2 * k; changed = 1
                    # keep scanning from the kept block so longer runs collapse
                    for (; i < n; i++) o[m++] = l[i]; break }
        o[m++] = l[i]; i++
      }
      if (changed) { n = m; for (i = 0; i < n; i++) l[i] = o[i]; break }
    }
  }
  for (i = 0; i < n; i++) print l[i]
}
