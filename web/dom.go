//go:build js && wasm

package main

import "syscall/js"

// Small helpers over syscall/js for the DOM. User-supplied text only ever
// goes through textContent, never innerHTML.

var (
	global   = js.Global()
	document = global.Get("document")
)

// byID returns the element with id (panics if it is missing: index.html
// and this program go together).
func byID(id string) js.Value {
	v := document.Call("getElementById", id)
	if v.IsNull() {
		panic("web: no element #" + id)
	}
	return v
}

// el creates an element with a class and text (both optional).
func el(tag, class, text string) js.Value {
	v := document.Call("createElement", tag)
	if class != "" {
		v.Set("className", class)
	}
	if text != "" {
		v.Set("textContent", text)
	}
	return v
}

// setText sets the text of an element.
func setText(v js.Value, text string) { v.Set("textContent", text) }

// show shows or hides an element (the hidden attribute).
func show(v js.Value, visible bool) { v.Set("hidden", !visible) }

// clear removes the children of an element.
func clear(v js.Value) { v.Call("replaceChildren") }

// on adds an event listener for the life of the program.
func on(target js.Value, event string, fn func(ev js.Value)) {
	target.Call("addEventListener", event, js.FuncOf(func(this js.Value, args []js.Value) any {
		fn(args[0])
		return nil
	}))
}

// bytesToJS copies b into a new Uint8Array.
func bytesToJS(b []byte) js.Value {
	u8 := global.Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(u8, b)
	return u8
}

// bytesFromJS copies a Uint8Array (or an ArrayBuffer) into a new slice.
func bytesFromJS(v js.Value) []byte {
	if !v.InstanceOf(global.Get("Uint8Array")) {
		v = global.Get("Uint8Array").New(v)
	}
	b := make([]byte, v.Get("length").Int())
	js.CopyBytesToGo(b, v)
	return b
}

// blobURL returns an object URL for data of type mime.
func blobURL(data []byte, mime string) string {
	parts := global.Get("Array").New(bytesToJS(data))
	blob := global.Get("Blob").New(parts, map[string]any{"type": mime})
	return global.Get("URL").Call("createObjectURL", blob).String()
}
