module github.com/storeaffinity/storeaffinity-provider

go 1.22
