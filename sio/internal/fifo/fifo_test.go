package fifo

import "testing"

func TestQueue(t *testing.T) {
	var q Queue[*int]
	if _, ok := q.Pop(4); ok {
		t.Fatal("Pop on an empty queue reported an item")
	}
	vals := []int{1, 2, 3}
	for i := range vals {
		q.Push(&vals[i])
	}
	if q.Len() != 3 {
		t.Fatalf("Len = %d, want 3", q.Len())
	}
	for i := range vals {
		v, ok := q.Pop(4)
		if !ok || *v != vals[i] {
			t.Fatalf("Pop %d = %v, %v", i, v, ok)
		}
		if q.items[i] != nil {
			t.Fatalf("item %d still referenced after Pop", i)
		}
	}
	if _, ok := q.Pop(4); ok || q.items == nil || len(q.items) != 0 {
		t.Fatalf("an empty queue within keep keeps its array: %v", q.items)
	}
	for i := range 10 {
		q.Push(&vals[i%3])
	}
	for {
		if _, ok := q.Pop(4); !ok {
			break
		}
	}
	if q.items != nil {
		t.Fatal("an empty queue over keep keeps its array")
	}
	q.Push(&vals[0])
	q.Reset()
	if q.Len() != 0 || q.items != nil {
		t.Fatal("Reset left items")
	}
}
