"""Software: installation files, product-key pools, and the download links an admin agent hands out (R3, R4)."""
