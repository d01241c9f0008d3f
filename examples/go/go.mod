module example.com/securekey-quickstart

go 1.19
