from twotier.cli.main import console

console()
