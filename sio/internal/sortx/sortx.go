// Package sortx sorts without generics. The sort functions of package slices
// are instantiated for every element type they are used with, each
// instantiation a dozen functions (about 20 kB of WebAssembly, and long
// symbol names); this one heap sort serves every type at the cost of a
// closure call per comparison.
package sortx

// Func sorts the n elements of a collection, less and swap comparing and
// exchanging the elements of index i and j. It is not stable and runs in
// O(n log n).
func Func(n int, less func(i, j int) bool, swap func(i, j int)) {
	if n < 12 { // insertion sort
		for i := 1; i < n; i++ {
			for j := i; j > 0 && less(j, j-1); j-- {
				swap(j, j-1)
			}
		}
		return
	}
	for i := (n - 2) / 2; i >= 0; i-- {
		siftDown(i, n, less, swap)
	}
	for i := n - 1; i > 0; i-- {
		swap(0, i)
		siftDown(0, i, less, swap)
	}
}

func siftDown(root, hi int, less func(i, j int) bool, swap func(i, j int)) {
	for {
		child := 2*root + 1
		if child >= hi {
			return
		}
		if child+1 < hi && less(child, child+1) {
			child++
		}
		if !less(root, child) {
			return
		}
		swap(root, child)
		root = child
	}
}

// Strings sorts s in increasing order.
func Strings(s []string) {
	Func(len(s), func(i, j int) bool { return s[i] < s[j] }, func(i, j int) { s[i], s[j] = s[j], s[i] })
}
