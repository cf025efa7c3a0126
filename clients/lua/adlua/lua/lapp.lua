-- lapp: penlight's option parser under its short name (see pl/lapp.lua)
return require 'pl.lapp'
