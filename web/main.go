//go:build js && wasm

// Command web is the browser side of the demo, compiled to WebAssembly and
// loaded by index.html. For now it is a placeholder that proves the wasm
// loads: it writes "wasm loaded" into the #status element.
package main

import "syscall/js"

func main() {
	doc := js.Global().Get("document")
	if status := doc.Call("getElementById", "status"); !status.IsNull() {
		status.Set("textContent", "wasm loaded")
	}
}
