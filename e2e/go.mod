module github.com/storeaffinity/storeaffinity/e2e

go 1.26
