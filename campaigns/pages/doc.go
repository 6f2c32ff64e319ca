// Package pages is fundraisers' own pages: the page and its address (pages.go), its photo
// (photo.go: checked, stripped and resized copies), the public page and its wall of gifts
// (fundraisers.go), offline money a fundraiser collected and an admin verifies, rejects or
// reverses (offline.go), and her thank-you notes to donors (thanks.go).
//
// A fundraiser reads and changes only her own pages; another's page looks exactly like one
// that does not exist. A new page is pending until an admin approves it.
package pages
