#pragma once

#include <string>
#include <string_view>

namespace r2w::storage {

// Objects are served with the content type their uploader chose. A type a browser would run
// or render as a document of r2watch's origin (scripts, HTML, XML, SVG, ...) is "active": such
// an object is served as a download (Content-Disposition: attachment), never inline. Every
// object response also carries X-Content-Type-Options: nosniff, so a browser never guesses a
// more dangerous type than the one declared.

// The media type of a Content-Type value, lowercase, without parameters or spaces:
// " Text/HTML; charset=utf-8" -> "text/html"; "" when the value is not type/subtype.
std::string media_type(std::string_view content_type);

// Whether objects of `content_type` must be downloaded rather than shown: HTML, XHTML, SVG,
// any XML (text/xml, application/xml, every "+xml" type, XSLT), JavaScript and ECMAScript in
// every registered and legacy spelling, JSON-P style script types, VBScript, Flash, PDF,
// cache manifests, multipart/x-mixed-replace, and anything that is not a well-formed
// type/subtype (a browser would sniff it). Plain text, images other than SVG, audio, video,
// JSON, CSV, archives and application/octet-stream are not active.
bool is_active_content_type(std::string_view content_type);

}  // namespace r2w::storage
