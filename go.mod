module github.com/storeaffinity/storeaffinity

go 1.22
